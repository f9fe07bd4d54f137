"""Site kinds that book something: a restaurant table, flights, a rental car, a hotel room, event tickets."""

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
    AIRLINES,
    BAND_FIRST,
    BAND_SECOND,
    CAR_CLASSES,
    CITIES,
    CUISINES,
    FLIGHT_TIMES,
    HOTEL_KINDS,
    MONTHS,
    NAME_FIRST,
    RESTAURANT_KINDS,
    SECTIONS,
    TIMES,
    VENUES,
    _city_suggestions,
    _date,
    _date_options,
    _plural,
)


def restaurant_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("tablehop", "dinerly", "reservo", "forkful")), "Restaurant",
                ("Restaurants", "Near me", "Private dining", "Gift cards", "Deals", "Blog", "For business"),
                ("Dine out for less this spring", "New restaurants this week", "Celebrate with a private room"))  # fmt: skip
    city = rng.choice(CITIES)
    month, day, date = _date(rng)
    time = rng.choice(TIMES)
    party = rng.randint(1, 8)
    party_text = _plural(party, "guest")
    names = [f"{a} {b}" for a in rng.sample(NAME_FIRST, 4) for b in rng.sample(RESTAURANT_KINDS, 2)]
    restaurant = names[0]
    rng.shuffle(names)
    others = [n for n in names if n != restaurant][:4]
    suggestions = [f"{restaurant}, {city[0]}, {city[1]}"] + [
        f"{restaurant}, {c[0]}, {c[1]}" for c in rng.sample(CITIES, 2) if c != city
    ]
    suggestions += [f"{n}, {city[0]}, {city[1]}" for n in others[:2]]
    rng.shuffle(suggestions)
    gold_suggestion = f"{restaurant}, {city[0]}, {city[1]}"
    dates = _date_options(month, day)
    slot_times = list(TIMES)
    cuisine = rng.choice(CUISINES)
    goal = rng.choice((
        f"Book a table for {party_text} at {restaurant} in {city[0]} on {date} at {time}",
        f"Reserve {restaurant} in {city[0]}, {city[1]} for {party_text} on {date} at {time}",
        f"Find a {time} reservation on {date} at {restaurant} in {city[0]} for {party_text}",
    ))  # fmt: skip

    def search(c: Ctx) -> El:
        form = h("form", {"class": "search-form", "role": "search"},
                 select_field(c, "date", "Date", "date", dates),
                 select_field(c, "time", "Time", "time", slot_times),
                 select_field(c, "party", "Party size", "party", [_plural(n, "guest") for n in range(1, 11)]),
                 text_field(c, "query", "Location, restaurant, or cuisine", "q", "Location, Restaurant, or Cuisine",
                            role="combobox", suggestions=suggestions),
                 button(c, "go", "Let's go"))  # fmt: skip
        cards = [h("article", {"class": "card"}, h("h3", {}, n), h("p", {}, f"{cuisine_} · $$ · {city[0]}"),
                   link(c, None, "Book now", f"/r/{_slug(n)}", aria=f"Book {n}"))
                 for n, cuisine_ in zip(others, c.rng.sample(CUISINES, len(others)), strict=True)]  # fmt: skip
        return page(
            c,
            site,
            [
                h("h1", {}, "Find your table for any occasion"),
                form,
                h("section", {"class": "popular"}, h("h2", {}, "Popular near you"), *cards),
            ],
        )

    def venue(c: Ctx) -> El:
        slots = []
        for t in TIMES:
            slots.append(button(c, f"slot:{t}", t, aria=f"Reserve a table at {t}"))
        box = h("section", {"class": "reservation", "aria-label": "Make a reservation"},
                h("h2", {}, "Make a reservation"),
                select_field(c, "r-party", "Party size", "party", [_plural(n, "guest") for n in range(1, 11)]),
                select_field(c, "r-date", "Date", "date", dates),
                h("div", {"class": "slots", "role": "group", "aria-label": "Available times"}, *slots),
                link(c, None, "Join the waitlist", "/waitlist"))  # fmt: skip
        menu = h("section", {"class": "menu"}, h("h2", {}, "Menu"),
                 h("ul", {}, *[h("li", {}, d) for d in c.rng.sample(
                     ["Burrata", "Ribeye", "Tuna tartare", "Mushroom risotto", "Key lime pie", "Crispy calamari",
                      "Roast chicken", "Caesar salad"], 4)]),
                 link(c, None, "View full menu", "/menu"))  # fmt: skip
        return page(c, site, [h("h1", {}, restaurant), h("p", {}, f"{cuisine} · {city[0]}, {city[1]} · 4.{c.rng.randint(1, 9)} stars"),
                              box, menu,
                              h("section", {"class": "reviews"}, h("h2", {}, "What people are saying"),
                                h("p", {}, "Wonderful service and the pasta was perfect."), link(c, None, "Read all reviews", "/reviews"))])  # fmt: skip

    plan = [
        Plan("search", "date", SELECT, date),
        Plan("search", "time", SELECT, time),
        Plan("search", "party", SELECT, party_text),
        Plan("search", "query", TYPE, restaurant),
        Plan("search", "query:pick", CLICK),
        Plan("venue", f"slot:{time}", CLICK),
    ]
    return Workflow(site, goal, {"search": search, "venue": venue}, plan, {"query": gold_suggestion})


def flights_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("skyroute", "flyfare", "jetscout", "airhopper")), "Airlines",
                ("Book", "My trips", "Travel info", "Deals", "Miles program", "Flight status", "Check in"),
                ("Fares from $49 one way", "Earn double miles this summer", "New nonstop routes"))  # fmt: skip
    src, dst = rng.sample(CITIES, 2)
    month, day, date = _date(rng)
    oneway = rng.random() < 0.5
    ret_day = day + rng.randint(2, 7)
    ret_date = f"{month} {ret_day}"
    adults = rng.randint(1, 4)
    adults_text = _plural(adults, "Adult")
    cabin = rng.choice(("Economy", "Economy", "Premium economy", "Business", "First"))
    dep_time = rng.choice(FLIGHT_TIMES)
    airline = rng.choice(AIRLINES)
    src_sugg = _city_suggestions(rng, src, airports=True)
    dst_sugg = _city_suggestions(rng, dst, airports=True)
    flights = [(airline, dep_time)] + [
        (rng.choice(AIRLINES), t) for t in rng.sample([t for t in FLIGHT_TIMES if t != dep_time], 4)
    ]
    rng.shuffle(flights)
    prices = {f: rng.randint(89, 640) for f in flights}
    trip = "one-way" if oneway else "round-trip"
    when = f"on {date}" if oneway else f"leaving {date} and returning {ret_date}"
    cabin_txt = "" if cabin == "Economy" else f" in {cabin}"
    goal = rng.choice((
        f"Book a {trip} flight from {src[0]} to {dst[0]} {when} for {adults_text.lower()}{cabin_txt}, taking the {dep_time} {airline} departure",
        f"Find {trip} flights{cabin_txt} from {src[0]}, {src[1]} to {dst[0]}, {dst[1]} {when} for {adults_text.lower()} and choose the {airline} flight at {dep_time}",
    ))  # fmt: skip
    dates = _date_options(month, day)
    ret_dates = _date_options(month, ret_day)

    def search(c: Ctx) -> El:
        tabs = h("div", {"role": "tablist", "aria-label": "Trip type"},
                 button(c, "tab-round", "Round trip", aria="Round trip", role="tab"),
                 button(c, "tab-oneway", "One-way", aria="One-way", role="tab"),
                 button(c, None, "Multi-city", aria="Multi-city"))  # fmt: skip
        fields: list[El | None] = [
            tabs,
            text_field(c, "from", "From", "origin", "Enter your departing city, airport name, or airport code",
                       role="combobox", suggestions=src_sugg),
            button(c, None, "Swap", aria="Swap origin and destination"),
            text_field(c, "to", "To", "destination", "Enter your destination city, airport name, or airport code",
                       role="combobox", suggestions=dst_sugg),
            select_field(c, "depart", "Depart", "depart", dates),
            None if c.fill.get("tab-oneway") else select_field(c, "return", "Return", "return", ret_dates),
            select_field(c, "pax", "Travelers", "travelers", [_plural(n, "Adult") for n in range(1, 9)]),
            select_field(c, "cabin", "Cabin", "cabin", ["Economy", "Premium economy", "Business", "First"]),
            h("div", {"class": "checkbox"}, h("input", {"type": "checkbox", "name": "flexible", "aria-label": "My dates are flexible"}),
              h("label", {}, "My dates are flexible")),
            button(c, "find", "Find flights"),
        ]  # fmt: skip
        deals = [h("li", {}, link(c, None, f"{a[0]} to {b[0]} from ${c.rng.randint(59, 300)}", f"/deal/{a[2]}-{b[2]}"))
                 for a, b in zip(c.rng.sample(CITIES, 4), c.rng.sample(CITIES, 4), strict=True)]  # fmt: skip
        return page(
            c,
            site,
            [
                h("h1", {}, "Where do you want to go?"),
                h("form", {"class": "booking"}, *fields),
                h("section", {"class": "deals"}, h("h2", {}, "Top fare deals"), h("ul", {}, *deals)),
            ],
        )

    def results(c: Ctx) -> El:
        rows = []
        for f in flights:
            al, t = f
            label = f"Select {al} flight departing {t}, ${prices[f]}"
            rows.append(h("li", {"class": "flight"},
                          h("div", {}, h("span", {}, t), h("span", {}, f"{src[2]} → {dst[2]}"), h("span", {}, al)),
                          h("span", {"class": "price"}, f"${prices[f]}"),
                          button(c, f"flight:{al}:{t}", "Select", aria=label)))  # fmt: skip
        filters = h("aside", {"class": "filters"}, h("h2", {}, "Filter"),
                    checkbox(c, "f-nonstop", "Nonstop only", "nonstop"),
                    select_field(c, "sort", "Sort by", "sort", ["Best", "Price", "Departure time", "Duration"]))  # fmt: skip
        return page(
            c, site, [h("h1", {}, f"{src[0]} to {dst[0]}"), filters, h("ol", {"class": "results"}, *rows)]
        )

    plan = []
    if oneway:
        plan.append(Plan("search", "tab-oneway", CLICK))
    plan += [Plan("search", "from", TYPE, src[0]), Plan("search", "from:pick", CLICK),
             Plan("search", "to", TYPE, dst[0]), Plan("search", "to:pick", CLICK),
             Plan("search", "depart", SELECT, date)]  # fmt: skip
    if not oneway:
        plan.append(Plan("search", "return", SELECT, ret_date))
    if adults > 1:
        plan.append(Plan("search", "pax", SELECT, adults_text))
    if cabin != "Economy":
        plan.append(Plan("search", "cabin", SELECT, cabin))
    plan += [Plan("search", "find", CLICK), Plan("results", f"flight:{airline}:{dep_time}", CLICK)]
    gold = {"from": f"{src[0]}, {src[1]}, US ({src[2]})", "to": f"{dst[0]}, {dst[1]}, US ({dst[2]})"}
    return Workflow(site, goal, {"search": search, "results": results}, plan, gold)


def car_rental_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("drivenow", "rentwheel", "carlane", "motorent")), "Car rental",
                ("Reservations", "Vehicles", "Locations", "Deals", "Business rentals", "Car sales", "Loyalty"),
                ("Weekend rates from $19 a day", "Upgrade to an SUV for less", "Its tax refund time. Treat yourself"))  # fmt: skip
    city = rng.choice(CITIES)
    month, day, date = _date(rng)
    ret_day = day + rng.randint(1, 6)
    ret_date = f"{month} {ret_day}"
    age = rng.choice(("21", "22", "23", "24", "25+"))
    car = rng.choice(CAR_CLASSES)
    loc_sugg = [
        f"{city[0]} Airport ({city[2]})",
        f"{city[0]} Downtown",
        f"{city[0]} North",
        f"{city[0]} Union Station",
    ]
    rng.shuffle(loc_sugg)
    loc = rng.choice(loc_sugg)
    age_txt = "25 or older" if age == "25+" else f"{age} years old"
    goal = rng.choice((
        f"Rent a {car.lower()} car at {loc} from {date} to {ret_date}; the driver is {age_txt}",
        f"Find a {car.lower()} rental in {loc} picking up {date} and returning {ret_date} for a renter who is {age_txt}",
    ))  # fmt: skip

    def search(c: Ctx) -> El:
        form = h("form", {"class": "rental"},
                 text_field(c, "loc", "Pick-up location", "pickup", "Pick-up & Return Location (ZIP, City or Airport)",
                            role="searchbox", suggestions=loc_sugg),
                 h("div", {"class": "checkbox"}, h("input", {"type": "checkbox", "name": "diff", "aria-label": "Return to a different location"}),
                   h("label", {}, "Return to a different location")),
                 select_field(c, "pick", "Pick-up date", "pickup_date", _date_options(month, day)),
                 select_field(c, "ret", "Return date", "return_date", _date_options(month, ret_day)),
                 select_field(c, "age", "Renter age", "age", ["25+", "24", "23", "22", "21", "20", "19", "18"]),
                 text_field(c, "promo", "Promo code", "promo", "Coupon, promo or corporate code"),
                 button(c, "browse", "Browse vehicles"))  # fmt: skip
        return page(c, site, [h("h1", {}, "Reserve a vehicle"), form,
                              h("section", {"class": "why"}, h("h2", {}, "Why rent with us"),
                                h("p", {}, "Free cancellation on most bookings."), link(c, None, "View inventory", "/inventory"))])  # fmt: skip

    def vehicles(c: Ctx) -> El:
        cards = []
        for cls in CAR_CLASSES:
            cards.append(h("article", {"class": "vehicle"}, h("h3", {}, cls),
                           h("p", {}, f"{c.rng.randint(2, 7)} seats · Automatic · ${c.rng.randint(29, 140)}/day"),
                           button(c, f"car:{cls}", "Select", aria=f"Select {cls}"),
                           link(c, None, "Vehicle details", f"/v/{_slug(cls)}")))  # fmt: skip
        return page(c, site, [h("h1", {}, f"Vehicles at {loc}"),
                              select_field(c, "vsort", "Sort by", "sort", ["Recommended", "Price: low to high", "Price: high to low"]),
                              h("div", {"class": "vehicle-list"}, *cards)])  # fmt: skip

    plan = [Plan("search", "loc", TYPE, city[0]), Plan("search", "loc:pick", CLICK),
            Plan("search", "pick", SELECT, date), Plan("search", "ret", SELECT, ret_date)]  # fmt: skip
    if age != "25+":
        plan.append(Plan("search", "age", SELECT, age))
    plan += [Plan("search", "browse", CLICK), Plan("vehicles", f"car:{car}", CLICK)]
    return Workflow(site, goal, {"search": search, "vehicles": vehicles}, plan, {"loc": loc})


def hotels_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("staybright", "roomfinder", "nestly", "innseek")), "Hotels",
                ("Stays", "Vacation rentals", "Deals", "Trips", "Rewards", "List your property"),
                ("Save 15% on weekend stays", "Members get free breakfast", "Book now, pay later"))  # fmt: skip
    city = rng.choice(CITIES)
    month, day, date = _date(rng)
    out_day = day + rng.randint(1, 6)
    out_date = f"{month} {out_day}"
    guests = rng.randint(1, 4)
    guests_text = _plural(guests, "adult")
    sugg = _city_suggestions(rng, city, airports=False)
    sort = rng.choice((None, "Price: low to high", "Guest rating"))
    amenity = rng.choice((None, "Free breakfast", "Pool", "Free parking", "Pet friendly"))
    extras = []
    if amenity:
        extras.append(f"with {amenity.lower()}")
    if sort:
        extras.append(f"sorted by {sort.lower()}")
    goal = f"Find a hotel in {city[0]}, {city[1]} for {guests_text} from {date} to {out_date}" + (
        " " + " and ".join(extras) if extras else ""
    )
    hotels = [f"{rng.choice(NAME_FIRST)} {rng.choice(HOTEL_KINDS)}" for _ in range(5)]

    def search(c: Ctx) -> El:
        form = h("form", {"class": "stay-search"},
                 text_field(c, "dest", "Destination", "destination", "Where are you going?", role="combobox",
                            suggestions=sugg),
                 select_field(c, "in", "Check-in", "checkin", _date_options(month, day)),
                 select_field(c, "out", "Check-out", "checkout", _date_options(month, out_day)),
                 select_field(c, "guests", "Guests", "guests", [_plural(k, "adult") for k in range(1, 9)]),
                 button(c, "go", "Search hotels"))  # fmt: skip
        return page(c, site, [h("h1", {}, "Find your next stay"), form,
                              h("section", {}, h("h2", {}, "Trending destinations"),
                                *[link(c, None, x[0], f"/d/{_slug(x[0])}") for x in c.rng.sample([x for x in CITIES if x != city], 4)])])  # fmt: skip

    def results(c: Ctx) -> El:
        filters = h("aside", {"class": "filters"}, h("h2", {}, "Popular filters"),
                    *[checkbox(c, f"am:{a}", a, _slug(a)) for a in ("Free breakfast", "Pool", "Free parking", "Pet friendly")])  # fmt: skip
        cards = [h("article", {"class": "hotel"}, h("h3", {}, n), h("p", {}, f"{c.rng.randint(6, 9)}.{c.rng.randint(0, 9)} Excellent"),
                   h("span", {}, f"${c.rng.randint(80, 420)} per night"), link(c, None, "View deal", f"/h/{_slug(n)}"))
                 for n in hotels]  # fmt: skip
        return page(c, site, [h("h1", {}, f"Hotels in {city[0]}"),
                              select_field(c, "sort", "Sort by", "sort", ["Recommended", "Price: low to high", "Guest rating", "Distance"]),
                              filters, h("div", {}, *cards)])  # fmt: skip

    plan = [Plan("search", "dest", TYPE, city[0]), Plan("search", "dest:pick", CLICK),
            Plan("search", "in", SELECT, date), Plan("search", "out", SELECT, out_date)]  # fmt: skip
    if guests != 1:
        plan.append(Plan("search", "guests", SELECT, guests_text))
    plan.append(Plan("search", "go", CLICK))
    if sort:
        plan.append(Plan("results", "sort", SELECT, sort))
    if amenity:
        plan.append(Plan("results", f"am:{amenity}", CLICK))
    return Workflow(
        site, goal, {"search": search, "results": results}, plan, {"dest": f"{city[0]}, {city[1]}, US"}
    )


def tickets_site(rng: random.Random) -> Workflow:
    site = Site(rng.choice(("ticketloop", "stubhive", "seatspot", "showpass")), "Event tickets",
                ("Concerts", "Sports", "Theater", "Comedy", "Family", "Festivals", "Gift cards"),
                ("Summer tours just announced", "Last-minute seats under $40", "Festival passes on sale"))  # fmt: skip
    artist = f"{rng.choice(BAND_FIRST)} {rng.choice(BAND_SECOND)}"
    cities = rng.sample(CITIES, 5)
    city = cities[0]
    month = rng.choice(MONTHS)
    days = sorted(rng.sample(range(1, 29), 5))
    shows = [(c, f"{month} {d}", f"{c[0]} {rng.choice(VENUES)}") for c, d in zip(cities, days, strict=True)]
    show = shows[0]
    rng.shuffle(shows)
    n = rng.randint(1, 6)
    section = rng.choice(SECTIONS)
    goal = rng.choice((
        f"Buy {_plural(n, 'ticket')} in the {section} section for {artist} in {city[0]} on {show[1]}",
        f"Get {_plural(n, 'ticket')} to see {artist} at {show[2]} on {show[1]}, {section} seats",
    ))  # fmt: skip

    def home(c: Ctx) -> El:
        search = h("form", {"role": "search"},
                   text_field(c, "q", "Search", "q", "Search for artists, teams or venues", role="searchbox"),
                   button(c, "go", "Search"))  # fmt: skip
        trending = [h("li", {}, link(c, None, f"{a} {b}", f"/a/{_slug(a + b)}"))
                    for a, b in zip(c.rng.sample(BAND_FIRST, 4), c.rng.sample(BAND_SECOND, 4), strict=True)]  # fmt: skip
        return page(c, site, [h("h1", {}, "Live events near you"), search,
                              h("section", {}, h("h2", {}, "Trending artists"), h("ul", {}, *trending))])  # fmt: skip

    def results(c: Ctx) -> El:
        rows = [h("li", {"class": "event"}, h("time", {}, d), h("span", {}, f"{v}, {cc[0]}, {cc[1]}"),
                  button(c, f"show:{d}", "See tickets", aria=f"See tickets for {artist} at {v} on {d}"))
                for cc, d, v in shows]  # fmt: skip
        return page(c, site, [h("h1", {}, f"{artist} tour dates"),
                              select_field(c, "loc", "Location", "location", ["All locations", "Near me"]),
                              h("ul", {"class": "events"}, *rows),
                              link(c, None, f"Follow {artist}", "/follow")])  # fmt: skip

    def seats(c: Ctx) -> El:
        form = h("form", {"class": "ticket-form"},
                 select_field(c, "qty", "Quantity", "quantity", [_plural(k, "ticket") for k in range(1, 9)]),
                 select_field(c, "section", "Section", "section", ["Any section", *SECTIONS]),
                 checkbox(c, "insure", "Add ticket insurance", "insurance"),
                 button(c, "checkout", "Continue to checkout"))  # fmt: skip
        return page(c, site, [h("h1", {}, f"{artist} at {show[2]}"), h("p", {}, f"{show[1]} · 8:00 PM"), form,
                              h("section", {}, h("h2", {}, "Venue info"), h("p", {}, "Doors open one hour before the show."))])  # fmt: skip

    plan = [
        Plan("home", "q", TYPE, artist),
        Plan("home", "go", CLICK),
        Plan("results", f"show:{show[1]}", CLICK),
    ]
    if n > 1:
        plan.append(Plan("seats", "qty", SELECT, _plural(n, "ticket")))
    plan += [Plan("seats", "section", SELECT, section), Plan("seats", "checkout", CLICK)]
    return Workflow(site, goal, {"home": home, "results": results, "seats": seats}, plan)
