"""Site kinds that shop, manage an account, post in a forum or search jobs."""

from __future__ import annotations

import random

from envs.web_browse.sites.dom import CLICK, SELECT, TYPE, El, h
from envs.web_browse.sites.drafts import Workflow
from envs.web_browse.sites.widgets import (
    Ctx,
    Plan,
    Site,
    _slug,
    button,
    checkbox,
    link,
    page,
    select_field,
    text_field,
)
from envs.web_browse.sites.words import (
    BRANDS,
    CITIES,
    COLORS,
    FIRST_NAMES,
    JOB_TITLES,
    LANGUAGES,
    MAIL_HOSTS,
    NOTIFICATIONS,
    PRODUCTS,
    REPLIES,
    SHOE_SIZES,
    SIZES,
    SUBFORUMS,
    SURNAMES,
    THREAD_PATTERNS,
    THREAD_TOPICS,
    TIME_ZONES,
)


def shopping_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("cartwise", "shopbright", "outfitly", "gearbarn")), "Shopping",
                ("New arrivals", "Women", "Men", "Kids", "Shoes", "Outdoor", "Sale", "Brands"),
                ("Up to 40% off outerwear", "Free shipping on orders over $50", "Spring essentials are here"))  # fmt: skip
    product = rng.choice(PRODUCTS)
    shoes = product in ("running shoes", "hiking boots", "sneakers")
    brand = rng.choice(BRANDS)
    color = rng.choice(COLORS)
    size = rng.choice(SHOE_SIZES if shoes else SIZES)
    qty = rng.choice((1, 1, 2, 3))
    listing = [(brand, color)] + [(rng.choice(BRANDS), rng.choice(COLORS)) for _ in range(7)]
    listing = [x for i, x in enumerate(listing) if x not in listing[:i]]
    rng.shuffle(listing)
    count = "" if qty == 1 else f"{qty} of the "
    goal = rng.choice((
        f"Add {count}{color} {brand} {product} in size {size} to the cart",
        f"Search for {product} and add {count}{brand} one in {color}, size {size}, to my cart",
    ))  # fmt: skip
    size_opts = ["Select a size", *(SHOE_SIZES if shoes else SIZES)]

    def home(c: Ctx) -> El:
        search = h("form", {"role": "search", "class": "site-search"},
                   text_field(c, "q", "Search", "q", "Search products and brands", role="searchbox"),
                   button(c, "go", "Search", aria="Submit search"))  # fmt: skip
        tiles = [h("a", {"href": f"/c/{_slug(t)}", "class": "tile"}, h("img", {"alt": t}), h("span", {}, t))
                 for t in c.rng.sample(("Jackets", "Boots", "Bags", "Tops", "Activewear", "Accessories"), 4)]  # fmt: skip
        return page(
            c,
            site,
            [h("section", {"class": "categories"}, h("h2", {}, "Shop by category"), *tiles)],
            header_extra=search,
        )

    def results(c: Ctx) -> El:
        items = []
        for b, col in listing:
            title = f"{b} {col} {product}"
            items.append(h("li", {"class": "product"}, h("img", {"alt": title}),
                           link(c, f"item:{b}:{col}", title.title(), f"/p/{_slug(title)}"),
                           h("span", {"class": "price"}, f"${c.rng.randint(19, 180)}.00"),
                           button(c, None, "Quick view", aria=f"Quick view {title}")))  # fmt: skip
        facets = h("aside", {"class": "facets"}, h("h2", {}, "Filter by"),
                   *[checkbox(c, f"brand-{_slug(b)}", b, f"brand-{_slug(b)}") for b in BRANDS[:5]])  # fmt: skip
        return page(c, site, [h("h1", {}, f'Results for "{product}"'),
                              select_field(c, "sort", "Sort by", "sort", ["Featured", "Price: low to high", "Newest"]),
                              facets, h("ul", {"class": "grid"}, *items)])  # fmt: skip

    def detail(c: Ctx) -> El:
        title = f"{brand} {color} {product}".title()
        box = h("form", {"class": "buy-box"},
                h("h1", {}, title), h("p", {"class": "price"}, f"${c.rng.randint(19, 180)}.00"),
                h("p", {}, f"Color: {color}"),
                select_field(c, "size", "Size", "size", size_opts),
                select_field(c, "qty", "Quantity", "quantity", [str(n) for n in range(1, 11)]),
                button(c, "add", "Add to cart"),
                button(c, None, "Add to wish list", aria="Save to wish list"))  # fmt: skip
        return page(c, site, [box, h("section", {"class": "details"}, h("h2", {}, "Product details"),
                                     h("p", {}, "Breathable, durable and made to last."), link(c, None, "Size guide", "/size-guide"))])  # fmt: skip

    plan = [Plan("home", "q", TYPE, product), Plan("home", "go", CLICK),
            Plan("results", f"item:{brand}:{color}", CLICK), Plan("detail", "size", SELECT, size)]  # fmt: skip
    if qty > 1:
        plan.append(Plan("detail", "qty", SELECT, str(qty)))
    plan.append(Plan("detail", "add", CLICK))
    return Workflow(site, goal, {"home": home, "results": results, "detail": detail}, plan)


def account_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("streamly", "mybankly", "cloudnote", "fitpal")), "Account settings",
                ("Home", "Browse", "My list", "Activity", "Offers", "Support"),
                ("Try premium free for 30 days", "Protect your account with two-step sign in", "New features this month"))  # fmt: skip
    email = f"{rng.choice(FIRST_NAMES)}.{rng.choice(SURNAMES).lower()}{rng.randint(1, 99)}@{rng.choice(MAIL_HOSTS)}"
    phone = f"({rng.randint(201, 989)}) 555-{rng.randint(1000, 9999)}"
    full_name = f"{rng.choice(FIRST_NAMES).capitalize()} {rng.choice(SURNAMES)}"
    lang = rng.choice(LANGUAGES[1:])
    zone = rng.choice(TIME_ZONES[1:])
    alerts = rng.choice(NOTIFICATIONS)
    kind = rng.randrange(6)
    on_site = rng.choice(("", f"On {site.name}, ", f"In my {site.name} account, "))
    goal = (
        on_site
        + (
            f"change the email address to {email}",
            f"update my phone number to {phone}",
            f"change the full name on the profile to {full_name}",
            rng.choice((f"set the language to {lang} and save", f"switch the account language to {lang}")),
            f"set my time zone to {zone} and save it",
            f"turn on the '{alerts}' notification setting and save it",
        )[kind]
    )
    goal = goal[0].upper() + goal[1:]

    def home(c: Ctx) -> El:
        rows = [
            h("li", {}, link(c, None, t, f"/title/{_slug(t)}"))
            for t in c.rng.sample(
                ("Continue watching", "Recently added", "Top picks for you", "Your activity", "Saved items"),
                3,
            )
        ]
        return page(c, site, [h("h1", {}, "Welcome back"), h("ul", {}, *rows)], account_key="acct")

    def settings(c: Ctx) -> El:
        profile = h("section", {"aria-label": "Profile"}, h("h2", {}, "Profile"),
                    text_field(c, "name", "Full name", "full_name", "Full name"),
                    text_field(c, "email", "Email address", "email", "Email address", input_type="email"),
                    text_field(c, "phone", "Phone number", "phone", "Phone number", input_type="tel"),
                    button(c, "save-profile", "Save profile"))  # fmt: skip
        prefs = h("section", {"aria-label": "Preferences"}, h("h2", {}, "Preferences"),
                  select_field(c, "lang", "Language", "language", list(LANGUAGES)),
                  select_field(c, "tz", "Time zone", "timezone", list(TIME_ZONES)),
                  button(c, "save-prefs", "Save preferences"))  # fmt: skip
        notes = h("section", {"aria-label": "Notifications"}, h("h2", {}, "Notifications"),
                  *[checkbox(c, f"n:{t}", t, _slug(t)) for t in NOTIFICATIONS],
                  button(c, "save-notes", "Save notification settings"))  # fmt: skip
        security = h("section", {"aria-label": "Security"}, h("h2", {}, "Security"),
                     button(c, None, "Change password"), button(c, None, "Sign out of all devices"))  # fmt: skip
        return page(
            c, site, [h("h1", {}, "Account settings"), profile, prefs, notes, security], account_key="acct-2"
        )

    edits = (
        [Plan("settings", "email", TYPE, email), Plan("settings", "save-profile", CLICK)],
        [Plan("settings", "phone", TYPE, phone), Plan("settings", "save-profile", CLICK)],
        [Plan("settings", "name", TYPE, full_name), Plan("settings", "save-profile", CLICK)],
        [Plan("settings", "lang", SELECT, lang), Plan("settings", "save-prefs", CLICK)],
        [Plan("settings", "tz", SELECT, zone), Plan("settings", "save-prefs", CLICK)],
        [Plan("settings", f"n:{alerts}", CLICK), Plan("settings", "save-notes", CLICK)],
    )
    plan = [Plan("home", "acct", CLICK), *edits[kind]]
    return Workflow(site, goal, {"home": home, "settings": settings}, plan)


def forum_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("threadly", "askaround", "hobbyhub", "talkbench")), "Forum",
                ("Forums", "Latest", "Top", "Members", "Rules", "Help"),
                ("Community meetup this weekend", "Read the updated posting guidelines", "Top posters of the month"))  # fmt: skip
    subs = rng.sample(SUBFORUMS, 6)
    sub = subs[0]
    topics = rng.sample(THREAD_TOPICS, 6)
    titles = [rng.choice(THREAD_PATTERNS).format(t=t) for t in topics]
    title = titles[0]
    reply = rng.choice(REPLIES)
    search_mode = rng.random() < 0.35
    rng.shuffle(titles)
    period = rng.choice(("Past week", "Past month", "Past year"))
    if search_mode:
        goal = f"Search the {site.name} forum for posts about {topics[0]} from the {period.lower()}"
    else:
        goal = f"Reply '{reply}' to the thread '{title}' in the {sub} forum"

    def index(c: Ctx) -> El:
        search = h("form", {"role": "search"},
                   text_field(c, "q", "Search", "q", "Search the forum", role="searchbox"),
                   select_field(c, "period", "Posted", "period", ["Any time", "Past week", "Past month", "Past year"]),
                   button(c, "go", "Search"))  # fmt: skip
        boards = [h("li", {"class": "board"}, link(c, f"sub:{s}", s, f"/f/{_slug(s)}"),
                    h("span", {}, f"{c.rng.randint(20, 900)} threads")) for s in subs]  # fmt: skip
        return page(c, site, [h("h1", {}, "Community forums"), search, h("ul", {"class": "boards"}, *boards)])

    def board(c: Ctx) -> El:
        rows = [h("li", {"class": "thread"}, link(c, f"thread:{t}", t, f"/t/{_slug(t)}"),
                  h("span", {}, f"{c.rng.randint(0, 80)} replies")) for t in titles]  # fmt: skip
        return page(
            c,
            site,
            [h("h1", {}, sub), button(c, None, "Start a new thread"), h("ul", {"class": "threads"}, *rows)],
        )

    def thread(c: Ctx) -> El:
        posts = [h("article", {"class": "post"}, h("h3", {}, c.rng.choice(FIRST_NAMES)),
                   h("p", {}, c.rng.choice(("Has anyone tried this?", "Here is what I did last spring.",
                                            "Same issue here, following."))),
                   button(c, None, "Like"), button(c, None, "Quote")) for _ in range(3)]  # fmt: skip
        area_attrs: dict[str, str | None] = {
            "name": "reply",
            "aria-label": "Write your reply",
            "placeholder": "Write your reply",
        }
        area = h("textarea", area_attrs, c.fill.get("reply"))
        c.key("reply", area, "textbox", "Write your reply")
        return page(c, site, [h("h1", {}, title), *posts,
                              h("form", {"class": "reply"}, area, checkbox(c, "watch", "Watch this thread", "watch"),
                                button(c, "post", "Post reply"))])  # fmt: skip

    if search_mode:
        plan = [
            Plan("index", "q", TYPE, topics[0]),
            Plan("index", "period", SELECT, period),
            Plan("index", "go", CLICK),
        ]
        return Workflow(site, goal, {"index": index}, plan)
    plan = [Plan("index", f"sub:{sub}", CLICK), Plan("board", f"thread:{title}", CLICK),
            Plan("thread", "reply", TYPE, reply), Plan("thread", "post", CLICK)]  # fmt: skip
    return Workflow(site, goal, {"index": index, "board": board, "thread": thread}, plan)


def jobs_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("jobnest", "hireline", "careerly", "workfind")), "Jobs",
                ("Find jobs", "Company reviews", "Salaries", "Upload your resume", "Employers"),
                ("Thousands of new jobs every day", "See what your role pays", "Build a standout resume"))  # fmt: skip
    title = rng.choice(JOB_TITLES)
    city = rng.choice(CITIES)
    posted = rng.choice((None, "Last 24 hours", "Last 7 days", "Last 14 days"))
    remote = rng.random() < 0.4
    goal = (
        f"Find {title} jobs in {city[0]}, {city[1]}"
        + (f" posted in the {posted.lower()}" if posted else "")
        + (" that allow remote work" if remote else "")
    )

    def search(c: Ctx) -> El:
        form = h("form", {"role": "search"},
                 text_field(c, "what", "What", "q", "Job title, keywords, or company"),
                 text_field(c, "where", "Where", "l", "City, state, zip code, or remote"),
                 button(c, "go", "Find jobs"))  # fmt: skip
        return page(c, site, [h("h1", {}, "Your next job starts here"), form,
                              h("section", {}, h("h2", {}, "Popular searches"),
                                *[link(c, None, f"{t} jobs", f"/q/{_slug(t)}") for t in c.rng.sample([j for j in JOB_TITLES if j != title], 4)])])  # fmt: skip

    def results(c: Ctx) -> El:
        filters = h("div", {"class": "filters"},
                    select_field(c, "posted", "Date posted", "fromage", ["Any time", "Last 24 hours", "Last 7 days", "Last 14 days"]),
                    select_field(c, "pay", "Pay", "salary", ["Any pay", "$40,000+", "$60,000+", "$80,000+"]),
                    checkbox(c, "remote", "Remote", "remote"))  # fmt: skip
        jobs = [h("article", {"class": "job"}, link(c, None, f"{title.title()} {lvl}", f"/j/{c.rng.randint(1000, 9999)}"),
                  h("p", {}, f"{city[0]}, {city[1]}"), button(c, None, "Save job", aria=f"Save {title} {lvl} job"))
                for lvl in c.rng.sample(("I", "II", "Senior", "Lead", "Associate"), 3)]  # fmt: skip
        return page(c, site, [h("h1", {}, f"{title.title()} jobs in {city[0]}"), filters, *jobs])

    plan = [Plan("search", "what", TYPE, title), Plan("search", "where", TYPE, f"{city[0]}, {city[1]}"),
            Plan("search", "go", CLICK)]  # fmt: skip
    if posted:
        plan.append(Plan("results", "posted", SELECT, posted))
    if remote:
        plan.append(Plan("results", "remote", CLICK))
    return Workflow(site, goal, {"search": search, "results": results}, plan)
