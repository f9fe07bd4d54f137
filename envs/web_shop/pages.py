"""The shop's pages as WebShop's text environment shows them, and the moves between them.

Each page is its visible strings joined by " [SEP] ", as in WebShop's simple text mode:

- search: ``WebShop [SEP] Instruction: [SEP] <instruction> [SEP] Search`` (the only page with a search bar);
- results: ``Instruction: [SEP] <instruction> [SEP] Back to Search [SEP] Page 1 (Total results: N) [SEP]
  [< Prev [SEP]] [Next > [SEP]] <ASIN> [SEP] <title> [SEP] $<price> ...``, 10 products a page (a product
  from WebShop's files shows WebShop's price tag: "$64.98", "$10.0 to $38.5");
- item: ``... Back to Search [SEP] < Prev [SEP] <group> [SEP] <value> ... [SEP] <title> [SEP] Price: $x [SEP]
  Rating: r [SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now``;
- description, features and reviews sub-pages: ``... Back to Search [SEP] < Prev [SEP] <text> ...``.

Clicking an option value records it for the open item (WebShop's page text does not show the choice; opening
another item clears it). Clicks match the page's clickables case-insensitively, as WebShop's do.

Example::

    session = ShopSession(catalog, get_index(catalog), "i need a ... dollars")
    session.search("gluten free dark chocolate")
    error = session.click("Next >")         # "" when the click was valid
    page = session.view()                   # Page(kind, text, has_search_bar, clickables)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envs.web_shop.catalog import Catalog, Product
from envs.web_shop.search import PAGE_SIZE, SearchIndex

SEARCH, RESULTS, ITEM = "search", "results", "item"
DESCRIPTION, FEATURES, REVIEWS = "description", "features", "reviews"
SUBPAGES = {"Description": DESCRIPTION, "Features": FEATURES, "Reviews": REVIEWS}

SEARCH_BUTTON = "Search"
BACK = "Back to Search"
NEXT = "Next >"
PREV = "< Prev"
BUY = "Buy Now"
SEP = " [SEP] "


@dataclass(frozen=True)
class Page:
    """What the agent sees: the page kind, its [SEP]-joined text and the available actions."""

    kind: str
    text: str
    has_search_bar: bool
    clickables: tuple[str, ...]


def price_text(price: float) -> str:
    return f"${price:.2f}"


def shown_price(product: Product) -> str:
    """The price a page shows: WebShop's own tag for its products (a range stays a range), else ``price``."""
    return product.price_tag or price_text(product.price)


@dataclass
class ShopSession:
    """One shopper's browsing state on one catalogue; ``purchase`` is set by a click on "Buy Now"."""

    catalog: Catalog
    index: SearchIndex
    instruction: str
    kind: str = SEARCH
    query: str = ""
    results: list[str] = field(default_factory=list)
    page_no: int = 1
    asin: str = ""
    selected: dict[str, str] = field(default_factory=dict)
    purchase: tuple[str, dict[str, str]] | None = None

    # -------------------------------------------------------------------------------------------- moves

    def search(self, keywords: str) -> str:
        """Run a search from the search page; returns an error message ("" when valid)."""
        if self.kind != SEARCH:
            return "search is only available on the search page (click 'Back to Search' first)"
        self.query = keywords.strip()
        self.results = self.index.search(self.query)
        self.page_no = 1
        self.kind = RESULTS
        return ""

    def click(self, value: str) -> str:
        """Click a value of the current page's clickables; returns an error message ("" when valid)."""
        page = self.view()
        wanted = value.strip().casefold()
        target = next((c for c in page.clickables if c.casefold() == wanted), None)
        if target is None:
            return f"{value.strip()!r} is not one of the clickables on this page"
        if self.kind == SEARCH:
            return "the Search button needs keywords: use search[...] with the search bar"
        if target == BACK:
            self.kind, self.query, self.results, self.asin, self.selected = SEARCH, "", [], "", {}
        elif self.kind == RESULTS:
            self._click_results(target)
        elif self.kind == ITEM:
            self._click_item(target)
        elif target == PREV:  # a description, features or reviews sub-page
            self.kind = ITEM
        return ""

    def _click_results(self, target: str) -> None:
        if target == NEXT:
            self.page_no += 1
        elif target == PREV:
            self.page_no -= 1
        else:
            self.kind, self.asin, self.selected = ITEM, target, {}

    def _click_item(self, target: str) -> None:
        product = self.catalog.get(self.asin)
        if target == PREV:
            self.kind, self.asin, self.selected = RESULTS, "", {}
        elif target in SUBPAGES:
            self.kind = SUBPAGES[target]
        elif target == BUY:
            self.purchase = (self.asin, dict(self.selected))
        else:
            for group, values in product.options:
                if target in values:
                    self.selected[group] = target
                    break

    # -------------------------------------------------------------------------------------------- views

    def page_asins(self) -> list[str]:
        start = (self.page_no - 1) * PAGE_SIZE
        return self.results[start : start + PAGE_SIZE]

    def view(self) -> Page:
        """The current page."""
        head = f"Instruction:{SEP}{self.instruction}"
        if self.kind == SEARCH:
            return Page(SEARCH, f"WebShop{SEP}{head}{SEP}{SEARCH_BUTTON}", True, (SEARCH_BUTTON,))
        if self.kind == RESULTS:
            return self._results_page(head)
        product = self.catalog.get(self.asin)
        if self.kind == ITEM:
            return self._item_page(head, product)
        parts = [head, BACK, PREV, *self._subpage_lines(product)]
        return Page(self.kind, SEP.join(parts), False, (BACK, PREV))

    def _results_page(self, head: str) -> Page:
        parts = [head, BACK, f"Page {self.page_no} (Total results: {len(self.results)})"]
        clickables = [BACK]
        if self.page_no > 1:
            parts.append(PREV)
            clickables.append(PREV)
        if self.page_no * PAGE_SIZE < len(self.results):
            parts.append(NEXT)
            clickables.append(NEXT)
        for asin in self.page_asins():
            product = self.catalog.get(asin)
            parts += [asin, product.title, shown_price(product)]
            clickables.append(asin)
        return Page(RESULTS, SEP.join(parts), False, tuple(clickables))

    def _item_page(self, head: str, product: Product) -> Page:
        parts = [head, BACK, PREV]
        clickables = [BACK, PREV]
        for group, values in product.options:
            parts += [group, *values]
            clickables += list(values)
        rating = "N.A." if product.rating is None else f"{product.rating:g}"
        parts += [product.title, f"Price: {shown_price(product)}", f"Rating: {rating}"]
        parts += ["Description", "Features", "Reviews", BUY]
        clickables += ["Description", "Features", "Reviews", BUY]
        return Page(ITEM, SEP.join(parts), False, tuple(dict.fromkeys(clickables)))

    def _subpage_lines(self, product: Product) -> list[str]:
        if self.kind == DESCRIPTION:
            return [product.description or "N.A."]
        if self.kind == FEATURES:
            return list(product.bullets) or ["N.A."]
        lines = []
        for review in product.reviews:
            lines += [f"{review.score} out of 5 stars", review.text]
        return lines or ["No reviews yet."]
