"""Word lists the generated sites draw their names, places, products and dates from, and small helpers over them."""

from __future__ import annotations

import random

CITIES: tuple[tuple[str, str, str], ...] = (
    ("Boston", "MA", "BOS"), ("Denver", "CO", "DEN"), ("Austin", "TX", "AUS"), ("Seattle", "WA", "SEA"),
    ("Chicago", "IL", "ORD"), ("Miami", "FL", "MIA"), ("Phoenix", "AZ", "PHX"), ("Portland", "OR", "PDX"),
    ("Atlanta", "GA", "ATL"), ("Nashville", "TN", "BNA"), ("San Diego", "CA", "SAN"),
    ("New Orleans", "LA", "MSY"), ("Minneapolis", "MN", "MSP"), ("Salt Lake City", "UT", "SLC"),
    ("Philadelphia", "PA", "PHL"), ("Las Vegas", "NV", "LAS"), ("Charlotte", "NC", "CLT"),
    ("Detroit", "MI", "DTW"), ("Baltimore", "MD", "BWI"), ("Orlando", "FL", "MCO"), ("Houston", "TX", "IAH"),
    ("Dallas", "TX", "DFW"), ("Kansas City", "MO", "MCI"), ("Pittsburgh", "PA", "PIT"),
    ("Raleigh", "NC", "RDU"), ("Sacramento", "CA", "SMF"), ("Tampa", "FL", "TPA"), ("Columbus", "OH", "CMH"),
    ("Indianapolis", "IN", "IND"), ("Springfield", "IL", "SPI"), ("Albany", "NY", "ALB"),
    ("Buffalo", "NY", "BUF"), ("Richmond", "VA", "RIC"), ("Tucson", "AZ", "TUS"), ("Omaha", "NE", "OMA"),
)  # fmt: skip
STATES = (
    "AL",
    "AR",
    "CA",
    "FL",
    "GA",
    "IA",
    "KY",
    "MA",
    "ME",
    "MO",
    "NH",
    "NJ",
    "OH",
    "PA",
    "TN",
    "VT",
    "WI",
)
MONTHS = ("March", "April", "May", "June", "July", "August", "September", "October", "November")
TIMES = (
    "11:30 AM", "12:00 PM", "12:30 PM", "1:00 PM", "5:00 PM", "5:30 PM", "6:00 PM", "6:30 PM", "7:00 PM",
    "7:30 PM", "8:00 PM", "8:30 PM", "9:00 PM",
)  # fmt: skip
FLIGHT_TIMES = ("6:05 AM", "7:45 AM", "9:20 AM", "11:10 AM", "1:35 PM", "3:50 PM", "5:25 PM", "8:40 PM")
AIRLINES = ("Skyward", "Pacific Air", "Northstar", "Bluejet", "Summit Airways", "Coastal")
NAME_FIRST = ("Copper", "Golden", "Little", "Blue", "Olive", "Saffron", "Harbor", "Juniper", "Maple", "Ember",
              "Velvet", "Silver", "Iron", "Wild", "Red", "Green")  # fmt: skip
RESTAURANT_KINDS = ("Table", "Kitchen", "Bistro", "Trattoria", "Grill", "Tavern", "Cantina", "Noodle House",
                    "Sushi Bar", "Brasserie", "Taqueria", "Steakhouse")  # fmt: skip
CUISINES = ("Italian", "Japanese", "Mexican", "French", "American", "Thai", "Indian", "Seafood", "Korean")
PRODUCTS = ("running shoes", "rain jacket", "backpack", "wool sweater", "hiking boots", "t-shirt", "hoodie",
            "denim jacket", "yoga pants", "sneakers", "fleece vest", "swim shorts")  # fmt: skip
BRANDS = ("Northpeak", "Trailform", "Urbanite", "Coastline", "Everfield", "Kestrel", "Lumen", "Brightwater")
COLORS = ("black", "navy", "olive", "grey", "red", "white", "blue", "green", "tan", "purple")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = ("7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12")
BAND_FIRST = ("The Midnight", "Electric", "Silver", "Velvet", "Neon", "Paper", "Golden", "Lost", "Northern")
BAND_SECOND = ("Owls", "Harbors", "Satellites", "Foxes", "Echoes", "Tigers", "Lanterns", "Rivers", "Giants")
VENUES = ("Arena", "Amphitheater", "Music Hall", "Pavilion", "Ballroom", "Theatre", "Stadium")
SECTIONS = ("Floor", "Lower Level", "Upper Level", "Balcony", "Mezzanine", "Orchestra")
CAR_CLASSES = ("Economy", "Compact", "Midsize", "Full-size", "SUV", "Minivan", "Luxury", "Pickup truck")
LANGUAGES = ("English", "Spanish", "French", "German", "Portuguese", "Italian", "Japanese", "Korean")
SUBFORUMS = ("Gardening", "Home Repair", "Photography", "Cycling", "Cooking", "Personal Finance", "Woodworking",
             "Board Games", "Aquariums", "Hiking")  # fmt: skip
THREAD_TOPICS = ("tomato blight", "leaky faucet", "night photography", "tubeless tires", "sourdough starter",
                 "index funds", "dovetail joints", "co-op games", "planted tanks", "trail shoes", "raised beds",
                 "drywall patch", "prime lenses", "chain wear", "cast iron care", "budget apps", "compost bins",
                 "grout cleaning", "film cameras", "bike fitting", "knife sharpening", "credit scores",
                 "wood finishes", "deck building", "shrimp tanks", "ultralight tents", "seed starting",
                 "water heaters", "macro lenses", "rain gear", "meal prep", "roth accounts")  # fmt: skip
THREAD_PATTERNS = ("Help with {t}", "Best advice on {t}?", "First time dealing with {t}", "{t}: what worked for you",
                   "Question about {t}", "Beginner tips for {t}")  # fmt: skip
REPLIES = ("Thanks, this worked for me", "I had the same problem last year", "Great tip, thank you",
           "Following this thread", "Could you share a photo", "Try the method from the pinned post")  # fmt: skip
HOTEL_KINDS = ("Inn", "Suites", "Hotel", "Lodge", "Resort", "Grand Hotel")
JOB_TITLES = ("data analyst", "nurse", "software engineer", "graphic designer", "accountant", "electrician",
              "teacher", "project manager", "sales associate", "pharmacist")  # fmt: skip
FIRST_NAMES = ("alex", "sam", "jordan", "taylor", "casey", "morgan", "riley", "jamie", "drew", "robin")
MAIL_HOSTS = ("mailbox.com", "inbox.net", "post.org", "fastmail.io")
SURNAMES = (
    "Garcia",
    "Nguyen",
    "Patel",
    "Smith",
    "Kim",
    "Okafor",
    "Rossi",
    "Chen",
    "Novak",
    "Silva",
    "Haddad",
)
TIME_ZONES = ("Eastern", "Central", "Mountain", "Pacific", "Alaska", "Hawaii", "UTC")
NOTIFICATIONS = ("Text me account alerts", "Email me product news", "Send me weekly summaries",
                 "Notify me about new sign-ins", "Email me monthly statements", "Text me promotions")  # fmt: skip


def _date(rng: random.Random, max_day: int = 21) -> tuple[str, int, str]:
    month = rng.choice(MONTHS)
    day = rng.randint(1, max_day)
    return month, day, f"{month} {day}"


def _date_options(month: str, day: int, span: int = 10) -> list[str]:
    start = max(1, day - span // 2)
    return [f"{month} {d}" for d in range(start, min(28, start + span) + 1)]


def _city_suggestions(rng: random.Random, city: tuple[str, str, str], airports: bool) -> list[str]:
    name, state, code = city
    others = rng.sample([s for s in STATES if s != state], 3)
    if airports:
        gold = f"{name}, {state}, US ({code})"
        rest = [f"{name}, {s}, US" for s in others] + [f"{name} - all airports"]
    else:
        gold = f"{name}, {state}, US"
        rest = [f"{name}, {s}, US" for s in others] + [f"{name} County, {state}, US"]
    items = [gold, *rest[: rng.randint(2, 4)]]
    rng.shuffle(items)
    return items


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- page building blocks ---------------------------------------------------------------------------------
