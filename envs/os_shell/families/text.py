"""Task families about text: grepping logs, distinct values, sums with awk, counting lines and words, editing
with sed, reading one line."""

from __future__ import annotations

import hashlib
import random

from envs.os_shell.families.common import (
    APPS,
    NUM_HINTS,
    WORDS,
    Draft,
    answer_draft,
    change_draft,
    heredoc,
    phrase,
)

_LOG_MESSAGES = (
    "connection reset by peer", "request took {n} ms", "retrying in {n} s", "cache miss for key user{n}",
    "queue length is {n}", "worker {n} started", "disk usage at {n} percent", "timeout after {n} ms",
    "user {n} logged in", "flushed {n} records",
)  # fmt: skip

_COMPONENTS = ("db", "cache", "http", "queue", "disk", "auth")


def log_grep(rng: random.Random) -> Draft:
    svc = rng.choice(("api", "worker", "billing", "auth", "gateway", "scheduler"))
    path = f"/var/log/{svc}.log"
    levels = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
    rows = []
    t = rng.randint(0, 3600)
    for _ in range(rng.randint(60, 140)):
        t += rng.randint(1, 90)
        level = rng.choice(levels)
        comp = rng.choice(_COMPONENTS)
        msg = rng.choice(_LOG_MESSAGES).format(n=rng.randint(1, 999))
        stamp = f"2026-11-{10 + t // 86400:02d} {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
        rows.append((stamp, level, comp, f"{stamp} [{level}] {comp}: {msg}"))
    # Make sure every question has at least one matching line.
    stamp = rows[-1][0]
    rows.append((stamp, "ERROR", "db", f"{stamp} [ERROR] db: connection reset by peer"))
    init = "mkdir -p /var/log\n" + heredoc(path, "".join(r[3] + "\n" for r in rows))
    mode = rng.choice(("level", "component", "last"))
    if mode == "level":
        level = rng.choice(("ERROR", "WARN"))
        q = phrase(
            rng,
            (
                "How many {lv} entries are there in {p}?",
                "The log {p} has lines tagged [{lv}]. How many of them are there?",
                "Count the {lv} lines in {p}.",
            ),
            NUM_HINTS,
            lv=level,
            p=path,
        )
        return answer_draft(
            q, init, f"grep -c '\\[{level}\\]' {path}", sum(r[1] == level for r in rows), ("log", "grep")
        )
    if mode == "component":
        comp = rng.choice(sorted({r[2] for r in rows if r[1] == "ERROR"}))
        q = phrase(
            rng,
            (
                "How many ERROR lines in {p} come from the {c} component?",
                "In {p}, count the errors reported by the component '{c}'.",
            ),
            NUM_HINTS,
            p=path,
            c=comp,
        )
        n = sum(r[1] == "ERROR" and r[2] == comp for r in rows)
        return answer_draft(q, init, f"grep '\\[ERROR\\] {comp}:' {path} | wc -l", n, ("log", "grep"))
    q = phrase(
        rng,
        (
            "At what time (HH:MM:SS) was the last ERROR written to {p}?",
            "Tell me the time of day of the most recent ERROR line in {p}, as HH:MM:SS.",
        ),
        p=path,
    )
    last = [r for r in rows if r[1] == "ERROR"][-1][0].split()[1]
    return answer_draft(q, init, f"grep ERROR {path} | tail -1 | awk '{{print $2}}'", last, ("log", "grep"))


def distinct_values(rng: random.Random) -> Draft:
    path = rng.choice(("/var/log/nginx/access.log", "/srv/web/access.log", "/var/log/httpd/access.log"))
    ips = [
        f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(rng.randint(4, 10))
    ]
    ips = list(dict.fromkeys(ips))
    counts = rng.sample(range(1, 3 * len(ips) + 4), len(ips))  # distinct, so the most frequent IP is unique
    statuses = rng.sample((200, 201, 204, 301, 302, 304, 400, 403, 404, 500, 502), rng.randint(2, 6))
    paths = ("index.html", "api/users", "login", "static/app.js", "health", "api/orders")
    hits = [ip for ip, c in zip(ips, counts, strict=True) for _ in range(c)]
    rng.shuffle(hits)
    used = set()
    lines = []
    for i, ip in enumerate(hits):
        status = statuses[i] if i < len(statuses) else rng.choice(statuses)
        used.add(status)
        lines.append(
            f'{ip} - - [21/Nov/2026:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] "GET /{rng.choice(paths)} HTTP/1.1" '
            f"{status} {rng.randint(120, 9000)}"
        )
    init = f"mkdir -p {path.rsplit('/', 1)[0]}\n" + heredoc(path, "".join(ln + "\n" for ln in lines))
    mode = rng.choice(("ips", "top", "status"))
    if mode == "ips":
        q = phrase(
            rng,
            (
                "How many distinct client IP addresses appear in {p}?",
                "Count the unique IP addresses (first column) in the access log {p}.",
            ),
            NUM_HINTS,
            p=path,
        )
        return answer_draft(
            q, init, f"awk '{{print $1}}' {path} | sort -u | wc -l", len(ips), ("log", "sort", "uniq")
        )
    if mode == "top":
        q = phrase(
            rng,
            (
                "Which IP address made the most requests according to {p}?",
                "Find the client IP that appears most often in {p}.",
            ),
            ("Answer with the IP only.", "Just the address, please."),
            p=path,
        )
        top = ips[counts.index(max(counts))]
        ref = f"awk '{{print $1}}' {path} | sort | uniq -c | sort -rn | head -1 | awk '{{print $2}}'"
        return answer_draft(q, init, ref, top, ("log", "sort", "uniq"))
    q = phrase(
        rng,
        (
            "How many different HTTP status codes occur in {p}?",
            "Count the distinct status codes logged in {p}.",
        ),
        NUM_HINTS,
        p=path,
    )
    return answer_draft(
        q, init, f"awk '{{print $9}}' {path} | sort -u | wc -l", len(used), ("log", "sort", "uniq")
    )


def awk_sum(rng: random.Random) -> Draft:
    path = f"/srv/reports/{rng.choice(('sales', 'orders', 'revenue'))}_{rng.choice(WORDS)}.csv"
    cols = ["region", "product", "amount"]
    rng.shuffle(cols)
    cols = ["date", *cols]
    regions = rng.sample(("north", "south", "east", "west", "central"), 3)
    products = rng.sample(("widget", "gadget", "gizmo", "doohickey", "sprocket", "bolt"), 4)
    amounts = rng.sample(range(1, 500), rng.randint(12, 30))  # distinct, so the largest row is unique
    rows = []
    for i, amount in enumerate(amounts):
        rec = {
            "date": f"2026-10-{1 + i % 28:02d}",
            "region": rng.choice(regions),
            "product": rng.choice(products),
        }
        rec["amount"] = str(amount)
        rows.append(rec)
    text = ",".join(cols) + "\n" + "".join(",".join(r[c] for c in cols) + "\n" for r in rows)
    init = "mkdir -p /srv/reports\n" + heredoc(path, text)
    a = cols.index("amount") + 1
    mode = rng.choice(("total", "region", "max"))
    if mode == "total":
        q = phrase(
            rng,
            (
                "What is the sum of the amount column in {p}? The first line is a header.",
                "Add up all values of the 'amount' column of the CSV file {p} (it has a header row).",
            ),
            NUM_HINTS,
            p=path,
        )
        ref = f"awk -F, 'NR>1 {{s+=${a}}} END {{print s}}' {path}"
        return answer_draft(q, init, ref, sum(amounts), ("csv", "awk"))
    if mode == "region":
        region = rng.choice(sorted({r["region"] for r in rows}))
        r_col = cols.index("region") + 1
        q = phrase(
            rng,
            (
                "What is the total amount for the region '{r}' in {p}?",
                "Sum the amount column of {p} over the rows whose region is {r}.",
            ),
            NUM_HINTS,
            p=path,
            r=region,
        )
        ref = f"awk -F, '${r_col}==\"{region}\" {{s+=${a}}} END {{print s}}' {path}"
        return answer_draft(
            q, init, ref, sum(int(r["amount"]) for r in rows if r["region"] == region), ("csv", "awk")
        )
    p_col = cols.index("product") + 1
    q = phrase(
        rng,
        (
            "Which product has the single largest amount in {p}?",
            "Look at {p}: what is the product of the row with the highest amount?",
        ),
        ("Answer with the product name only.",),
        p=path,
    )
    best = max(rows, key=lambda r: int(r["amount"]))["product"]
    return answer_draft(
        q, init, f"sort -t, -k{a},{a} -n {path} | tail -1 | cut -d, -f{p_col}", best, ("csv", "sort")
    )


_VOCAB = (
    "the", "quick", "server", "disk", "network", "kernel", "shell", "script", "user", "file", "process",
    "memory", "socket", "packet", "cache", "thread", "signal", "buffer", "module", "driver",
)  # fmt: skip


def _text_lines(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choice(_VOCAB) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def line_word_count(rng: random.Random) -> Draft:
    path = f"{rng.choice(('/root/notes', '/srv/docs', '/home/shared/texts'))}/{rng.choice(WORDS)}.txt"
    lines = _text_lines(rng, rng.randint(10, 40))
    init = f"mkdir -p {path.rsplit('/', 1)[0]}\n" + heredoc(path, "".join(ln + "\n" for ln in lines))
    mode = rng.choice(("lines", "words", "containing"))
    if mode == "lines":
        q = phrase(
            rng, ("How many lines does {p} have?", "Count the lines of the file {p}."), NUM_HINTS, p=path
        )
        return answer_draft(q, init, f"wc -l < {path}", len(lines), ("text", "wc"))
    if mode == "words":
        q = phrase(rng, ("How many words are in {p}?", "Count the words in the file {p}."), NUM_HINTS, p=path)
        return answer_draft(q, init, f"wc -w < {path}", sum(len(ln.split()) for ln in lines), ("text", "wc"))
    word = rng.choice(sorted({w for ln in lines for w in ln.split()}))
    q = phrase(
        rng,
        (
            "How many lines of {p} contain the word '{w}'?",
            "Count the lines in {p} in which the word {w} appears.",
        ),
        NUM_HINTS,
        p=path,
        w=word,
    )
    return answer_draft(
        q, init, f"grep -cw {word} {path}", sum(word in ln.split() for ln in lines), ("text", "grep")
    )


def sed_edit(rng: random.Random) -> Draft:
    app = rng.choice(APPS)
    path = rng.choice((f"/etc/{app}/{app}.conf", f"/srv/docs/{app}.txt", f"/root/{app}.ini"))
    keys = rng.sample(("host", "port", "user", "timeout", "retries", "mode", "backend", "path"), 5)
    lines = [f"{k}={rng.choice(WORDS)}{rng.randint(1, 99)}" for k in keys]
    lines += _text_lines(rng, rng.randint(3, 8))
    rng.shuffle(lines)
    text = "".join(ln + "\n" for ln in lines)
    init = f"mkdir -p {path.rsplit('/', 1)[0]}\n" + heredoc(path, text)
    mode = rng.choice(("replace", "delete", "set"))
    if mode == "replace":
        old = rng.choice(sorted({w for ln in lines for w in ln.replace("=", " ").split() if w.isalpha()}))
        new = rng.choice([w for w in WORDS if w not in text])
        new_text = text.replace(old, new)
        q = phrase(
            rng,
            (
                "In {p}, replace every occurrence of '{o}' with '{n}'.",
                "Change all '{o}' to '{n}' in the file {p}.",
            ),
            p=path,
            o=old,
            n=new,
        )
        ref = f"sed -i 's/{old}/{new}/g' {path}"
    elif mode == "delete":
        word = rng.choice(sorted({w for ln in lines if "=" not in ln for w in ln.split()}))
        new_text = "".join(ln + "\n" for ln in lines if word not in ln)
        q = phrase(
            rng,
            ("Delete every line of {p} that contains '{w}'.", "Remove all lines containing {w} from {p}."),
            p=path,
            w=word,
        )
        ref = f"sed -i '/{word}/d' {path}"
    else:
        key = rng.choice(keys)
        value = f"{rng.choice(WORDS)}{rng.randint(100, 999)}"
        new_text = "".join((f"{key}={value}" if ln.startswith(key + "=") else ln) + "\n" for ln in lines)
        q = phrase(
            rng,
            (
                "Set {k} to {v} in {p} (the line reads {k}=...).",
                "In {p}, change the value of the {k} setting to {v}.",
            ),
            p=path,
            k=key,
            v=value,
        )
        ref = f"sed -i 's/^{key}=.*/{key}={value}/' {path}"
    digest = hashlib.sha256(new_text.encode()).hexdigest()
    check = f"echo '{digest}  {path}' | sha256sum -c --status"
    return change_draft(q, init, ref, check, ("text", "sed"))


def nth_line(rng: random.Random) -> Draft:
    path = f"{rng.choice(('/root', '/srv/docs', '/var/data'))}/{rng.choice(WORDS)}_{rng.choice(('list', 'queue', 'notes'))}.txt"
    lines = list(dict.fromkeys(f"{ln} {rng.randint(1, 999)}" for ln in _text_lines(rng, rng.randint(15, 40))))
    init = f"mkdir -p {path.rsplit('/', 1)[0]}\n" + heredoc(path, "".join(ln + "\n" for ln in lines))
    if rng.random() < 0.6:
        n = rng.randint(2, len(lines))
        q = phrase(
            rng,
            ("What is line {n} of {p}?", "Print line number {n} of the file {p} and tell me what it says."),
            ("Answer with the line's text.", ""),
            n=n,
            p=path,
        ).strip()
        return answer_draft(q, init, f"sed -n '{n}p' {path}", lines[n - 1], ("text",))
    q = phrase(rng, ("What is the last line of {p}?", "Tell me the final line of the file {p}."), p=path)
    return answer_draft(q, init, f"tail -n 1 {path}", lines[-1], ("text",))
