"""Page widgets shared by every site kind: header, promotions, newsletter, cookie banner, footer, form fields,
buttons and links, and the page that frames a step.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from envs.web_browse.sites.dom import El, h


@dataclass(frozen=True)
class Site:
    name: str
    domain: str
    nav: tuple[str, ...]
    promos: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """One workflow step: the keyed element of a screen, the operation and its value."""

    screen: str
    key: str
    op: str
    value: str = ""


@dataclass
class Ctx:
    """What a screen builder gets: a layout rng (same on every render), and the state of earlier steps."""

    rng: random.Random
    fill: dict[str, str]
    open_suggestions: str | None
    keyed: dict[str, tuple[El, str, str]] = field(default_factory=dict)

    def key(self, key: str, el: El, role: str, label: str) -> El:
        self.keyed[key] = (el, role, label)
        return el


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def header(c: Ctx, site: Site, extra: El | None = None, account_key: str | None = None) -> El:
    links = c.rng.sample(site.nav, k=min(len(site.nav), c.rng.randint(4, 6)))
    items = [
        h("li", {"class": "nav-item"}, h("a", {"href": f"/{_slug(t)}", "class": "nav-link"}, t))
        for t in links
    ]
    if account_key is not None:
        link = h("a", {"href": "/account/settings", "class": "nav-link"}, "Account settings")
        items.append(h("li", {"class": "nav-item"}, c.key(account_key, link, "link", "Account settings")))
    return h(
        "header",
        {"class": "site-header", "data-testid": "header"},
        h(
            "div",
            {"class": "container"},
            h("a", {"href": f"https://www.{site.name}.com/", "aria-label": f"{site.name} home page"},
              h("img", {"alt": f"{site.name} logo", "src": "/static/logo.svg"})),
            h("nav", {"aria-label": "Main menu"}, h("ul", {"class": "nav-list"}, *items)),
            extra,
            h("div", {"class": "header-actions"},
              h("a", {"href": "/help", "class": "help"}, "Help"),
              h("button", {"type": "button", "aria-label": "Open account menu"}, h("span", {}, "Sign in"))),
        ),
    )  # fmt: skip


def promo(c: Ctx, site: Site) -> El:
    title = c.rng.choice(site.promos)
    return h(
        "section",
        {"class": "promo-banner", "aria-label": "Promotion"},
        h("h2", {}, title),
        h("p", {}, c.rng.choice((
            "Members save more every day. Join for free and start earning points.",
            "Limited time only. Terms and conditions apply.",
            "Discover new favorites picked by our editors this week.",
        ))),
        h("a", {"href": f"/promo/{_slug(title)}", "class": "cta"}, c.rng.choice(("Learn more", "Explore now", "See details"))),
    )  # fmt: skip


def newsletter(c: Ctx) -> El:
    return h(
        "section",
        {"class": "newsletter"},
        h("h3", {}, c.rng.choice(("Get deals in your inbox", "Stay in the loop", "Sign up for our newsletter"))),
        h("form", {"action": "/subscribe"},
          h("input", {"type": "email", "name": "email", "placeholder": "Enter your email address",
                      "aria-label": "Email address"}),
          h("button", {"type": "submit"}, "Subscribe")),
    )  # fmt: skip


def cookie_banner(c: Ctx) -> El | None:
    if c.rng.random() < 0.4:
        return None
    return h(
        "div",
        {"role": "dialog", "aria-label": "Cookie consent", "class": "cookie-banner"},
        h("p", {}, "We use cookies to improve your experience and to show you relevant offers."),
        h("button", {"type": "button"}, "Accept all cookies"),
        h("button", {"type": "button"}, "Manage preferences"),
    )


def footer(c: Ctx, site: Site) -> El:
    columns = (
        ("Company", ("About us", "Careers", "Press", "Investors")),
        ("Support", ("Help center", "Contact us", "Accessibility", "Site map")),
        ("Legal", ("Privacy policy", "Terms of use", "Cookie settings")),
    )
    socials = c.rng.sample(
        ("Facebook", "Instagram", "X", "YouTube", "TikTok", "LinkedIn"), k=c.rng.randint(3, 5)
    )
    return h(
        "footer",
        {"role": "contentinfo", "class": "site-footer"},
        *[
            h("div", {"class": "footer-col"}, h("h3", {}, title),
              h("ul", {}, *[h("li", {}, h("a", {"href": f"/{_slug(t)}"}, t)) for t in links]))
            for title, links in columns
        ],
        h("ul", {"class": "social", "aria-label": "Follow us"},
          *[h("a", {"href": f"https://social.example/{site.name}", "aria-label": f"Open {site.name}'s {s} page in a new tab"},
              h("svg", {"aria-hidden": "true"})) for s in socials]),
        h("div", {"class": "locale"},
          h("label", {"for": "lang"}, "Language"),
          h("select", {"id": "lang", "name": "language", "aria-label": "Site language"},
            *[h("option", {"value": x.lower()}, x) for x in ("English (US)", "Español", "Français", "Deutsch")])),
        h("p", {"class": "copyright"}, f"© 2025 {site.name.capitalize()} Inc. All rights reserved."),
    )  # fmt: skip


def text_field(
    c: Ctx,
    key: str,
    label: str,
    name: str,
    placeholder: str,
    role: str = "textbox",
    input_type: str = "text",
    suggestions: list[str] | None = None,
) -> El:
    attrs: dict[str, str | None] = {
        "type": input_type,
        "name": name,
        "id": name,
        "placeholder": placeholder,
        "aria-label": label,
        "autocomplete": "off",
    }
    if role == "combobox":
        attrs["role"] = "combobox"
    if key in c.fill:
        attrs["value"] = c.fill[key]
    field_el = h("input", attrs)
    c.key(key, field_el, role, placeholder or label)
    parts: list[El | str] = [h("label", {"for": name}, label), field_el]
    if suggestions and c.open_suggestions == key:
        options = []
        for text in suggestions:
            li = h("li", {"role": "option", "class": "suggestion"}, h("span", {}, text))
            options.append(li)
            if c.fill.get(f"{key}:gold") == text:
                c.key(f"{key}:pick", li, "option", text)
        parts.append(h("ul", {"role": "listbox", "aria-label": f"{label} suggestions"}, *options))
    return h("div", {"class": "form-field"}, *parts)


def select_field(c: Ctx, key: str, label: str, name: str, options: list[str]) -> El:
    chosen = c.fill.get(key, options[0])
    opts = [
        h("option", {"value": _slug(o), **({"selected": None} if o == chosen else {})}, o) for o in options
    ]
    sel = h("select", {"name": name, "id": name, "aria-label": label}, *opts)
    c.key(key, sel, "combobox", label)
    return h("div", {"class": "form-field"}, h("label", {"for": name}, label), sel)


def checkbox(c: Ctx, key: str, label: str, name: str) -> El:
    attrs: dict[str, str | None] = {"type": "checkbox", "name": name, "id": name, "aria-label": label}
    if c.fill.get(key):
        attrs["checked"] = None
    box = h("input", attrs)
    c.key(key, box, "checkbox", label)
    return h("div", {"class": "checkbox"}, box, h("label", {"for": name}, label))


def button(c: Ctx, key: str | None, text: str, aria: str | None = None, role: str = "button") -> El:
    attrs: dict[str, str | None] = {"type": "submit" if key else "button", "class": "btn"}
    if aria:
        attrs["aria-label"] = aria
    el = h("button", attrs, h("span", {}, text))
    if key is not None:
        c.key(key, el, role, aria or text)
    return el


def link(c: Ctx, key: str | None, text: str, href: str, aria: str | None = None) -> El:
    attrs: dict[str, str | None] = {"href": href}
    if aria:
        attrs["aria-label"] = aria
    el = h("a", attrs, text)
    if key is not None:
        c.key(key, el, "link", text)
    return el


def page(
    c: Ctx, site: Site, main: list[El | None], header_extra: El | None = None, account_key: str | None = None
) -> El:
    """Assemble a page; the order of the side blocks is drawn from the layout rng."""
    side = [promo(c, site), newsletter(c)]
    c.rng.shuffle(side)
    banner = cookie_banner(c)
    body = h(
        "body",
        {},
        header(c, site, header_extra, account_key),
        h("div", {"id": "app", "class": "page"},
          h("main", {"role": "main"}, *main, side[0]), h("aside", {"class": "sidebar"}, side[1])),
        footer(c, site),
        banner,
    )  # fmt: skip
    return h("html", {"lang": "en"}, h("head", {}, h("title", {}, site.name)), body)


# --- sites --------------------------------------------------------------------------------------------------
