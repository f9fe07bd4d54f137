"""Task families about files: counting, finding by size or age, disk usage, archives, links, hidden files and
creating files."""

from __future__ import annotations

import random

from envs.os_shell.families.common import (
    EXTS,
    NAME_HINTS,
    NUM_HINTS,
    STEMS,
    WORDS,
    Draft,
    answer_draft,
    change_draft,
    phrase,
    random_token,
    random_workdir,
    runtime_answer_draft,
    split_around,
)

# --------------------------------------------------------------------------------------------------------------
# Families


def count_by_extension(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    exts = rng.sample(EXTS, 4)
    ext = exts[0]
    subs = rng.sample(WORDS, 2)
    files = [f"{rng.choice(STEMS)}_{i}.{rng.choice(exts)}" for i in range(rng.randint(8, 16))]
    files = [f"{rng.choice(('', '', *[s + '/' for s in subs]))}{f}" for f in files]
    files += [f"{rng.choice(STEMS)}_top.{ext}", f"{subs[0]}/{rng.choice(STEMS)}_sub.{ext}"]
    init = f"mkdir -p {d}/{subs[0]} {d}/{subs[1]}\ncd {d} && touch {' '.join(files)}"
    if rng.random() < 0.5:
        n = sum(f.endswith("." + ext) for f in files)
        q = phrase(
            rng,
            (
                "How many files with the extension .{ext} are there in {d}, including its subdirectories?",
                "Count the .{ext} files under {d}; search its subdirectories too.",
                "I need to know how many files ending in .{ext} exist anywhere below {d}.",
            ),
            NUM_HINTS,
            ext=ext,
            d=d,
        )
        return answer_draft(q, init, f"find {d} -type f -name '*.{ext}' | wc -l", n, ("file", "find"))
    n = sum(f.endswith("." + ext) and "/" not in f for f in files)
    q = phrase(
        rng,
        (
            "How many .{ext} files are directly in {d}? Do not count files in its subdirectories.",
            "Count the files in {d} whose name ends with .{ext}, ignoring subdirectories.",
        ),
        NUM_HINTS,
        ext=ext,
        d=d,
    )
    return answer_draft(q, init, f"find {d} -maxdepth 1 -type f -name '*.{ext}' | wc -l", n, ("file", "find"))


def find_by_size(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    limit = rng.choice((4, 8, 10, 16, 20, 32))
    mode = rng.choice(("larger", "smaller", "name"))
    names = [f"{rng.choice(STEMS)}_{i}.{rng.choice(EXTS)}" for i in range(rng.randint(6, 10))]
    if mode == "name":
        sizes = [rng.randint(1, limit - 1) for _ in names]
        sizes[rng.randrange(len(names))] = rng.randint(limit + 1, 3 * limit)
    else:
        sizes = split_around(rng, len(names), 1, limit, 3 * limit)
    lines = [f"mkdir -p {d} && cd {d}"] + [
        f"head -c {s * 1024} /dev/urandom > {n}" for n, s in zip(names, sizes, strict=True)
    ]
    init = "\n".join(lines)
    unit = "KB (1 KB = 1024 bytes)"
    if mode == "larger":
        q = phrase(
            rng,
            ("How many files in {d} are larger than {n} {u}?", "Count the files in {d} bigger than {n} {u}."),
            NUM_HINTS,
            d=d,
            n=limit,
            u=unit,
        )
        expected = sum(s > limit for s in sizes)
        return answer_draft(q, init, f"find {d} -type f -size +{limit}k | wc -l", expected, ("file", "size"))
    if mode == "smaller":
        q = phrase(
            rng,
            (
                "How many files in {d} are smaller than {n} {u}?",
                "Count the files in {d} under {n} {u} in size.",
            ),
            NUM_HINTS,
            d=d,
            n=limit,
            u=unit,
        )
        expected = sum(s < limit for s in sizes)
        return answer_draft(q, init, f"find {d} -type f -size -{limit}k | wc -l", expected, ("file", "size"))
    big = names[next(i for i, s in enumerate(sizes) if s > limit)]
    q = phrase(
        rng,
        (
            "Exactly one file in {d} is larger than {n} {u}. Which one?",
            "Find the file in {d} whose size exceeds {n} {u}.",
        ),
        NAME_HINTS,
        d=d,
        n=limit,
        u=unit,
    )
    return answer_draft(q, init, f"find {d} -type f -size +{limit}k -printf '%f\\n'", big, ("file", "size"))


def find_by_mtime(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    days = rng.choice((3, 7, 10, 14, 30))
    names = [f"{rng.choice(STEMS)}_{i}.{rng.choice(EXTS)}" for i in range(rng.randint(6, 10))]
    ages = split_around(rng, len(names), 0, days, days + 60)
    lines = [f"mkdir -p {d} && cd {d}"] + [
        f"touch -d '{a} days ago' {n}" for n, a in zip(names, ages, strict=True)
    ]
    init = "\n".join(lines)
    mode = rng.choice(("older", "newer", "newest"))
    if mode == "older":
        q = phrase(
            rng,
            (
                "How many files in {d} were last modified more than {n} days ago?",
                "Count the files in {d} that have not been modified in the last {n} days.",
            ),
            NUM_HINTS,
            d=d,
            n=days,
        )
        return answer_draft(
            q, init, f"find {d} -type f -mtime +{days} | wc -l", sum(a > days for a in ages), ("file", "time")
        )
    if mode == "newer":
        q = phrase(
            rng,
            (
                "How many files in {d} were modified within the last {n} days?",
                "Count the files in {d} changed during the past {n} days.",
            ),
            NUM_HINTS,
            d=d,
            n=days,
        )
        return answer_draft(
            q, init, f"find {d} -type f -mtime -{days} | wc -l", sum(a < days for a in ages), ("file", "time")
        )
    q = phrase(
        rng,
        (
            "Which file in {d} was modified most recently?",
            "What is the newest file in {d} by modification time?",
        ),
        NAME_HINTS,
        d=d,
    )
    newest = names[ages.index(min(ages))]
    return answer_draft(q, init, f"ls -t {d} | head -1", newest, ("file", "time"))


def disk_usage(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    subs = rng.sample(WORDS, 3)
    lines = [f"mkdir -p {' '.join(f'{d}/{s}' for s in subs)}"]
    # Weights 1, 5, 25 times 20-30 KiB in 1-2 files: the directories' sizes never overlap.
    weights = dict(zip(subs, rng.sample((1, 5, 25), 3), strict=True))
    for s in subs:
        for i in range(rng.randint(1, 2)):
            lines.append(
                f"head -c {weights[s] * rng.randint(20, 30) * 1024} /dev/urandom > {d}/{s}/part{i}.bin"
            )
    init = "\n".join(lines)
    if rng.random() < 0.5:
        q = phrase(
            rng,
            (
                "How much disk space does {d} use in total, in kilobytes as reported by du?",
                "What is the total disk usage of {d} in KB (du's 1024-byte blocks)?",
            ),
            NUM_HINTS,
            d=d,
        )
        return runtime_answer_draft(q, init, f"du -sk {d} | cut -f1", ("file", "disk"))
    q = phrase(
        rng,
        (
            "Which subdirectory of {d} takes the most disk space?",
            "Of the directories inside {d}, which one is the biggest on disk?",
        ),
        ("Answer with the directory name only.",),
        d=d,
    )
    biggest = max(subs, key=lambda s: weights[s])
    return answer_draft(
        q, init, f"du -s {d}/* | sort -n | tail -1 | cut -f2 | xargs basename", biggest, ("file", "disk")
    )


def _archive_files(rng: random.Random) -> list[str]:
    sub = rng.choice(WORDS)
    return [
        f"{rng.choice(('', sub + '/'))}{rng.choice(STEMS)}_{i}.{rng.choice(('txt', 'csv', 'log'))}"
        for i in range(rng.randint(3, 12))
    ]


def _archive_init(archive: str, files: list[str], contents: dict[str, str]) -> str:
    dirs = sorted({f.rsplit("/", 1)[0] for f in files if "/" in f})
    lines = ["rm -rf /tmp/pl_build && mkdir -p /tmp/pl_build && cd /tmp/pl_build"]
    if dirs:
        lines.append(f"mkdir -p {' '.join(dirs)}")
    lines += [f"echo {contents.get(f, f)} > {f}" for f in files]
    lines += [
        f"mkdir -p {archive.rsplit('/', 1)[0]}",
        f"tar -czf {archive} {' '.join(files)}",
        "cd / && rm -rf /tmp/pl_build",
    ]
    return "\n".join(lines)


def archive_count(rng: random.Random) -> Draft:
    archive = f"{rng.choice(('/root', '/srv/archives', '/var/backups'))}/{rng.choice(WORDS)}_backup.tar.gz"
    files = _archive_files(rng)
    init = _archive_init(archive, files, {})
    if rng.random() < 0.5:
        q = phrase(
            rng,
            ("How many files are in the archive {a}?", "Count the files stored in the tarball {a}."),
            NUM_HINTS,
            a=archive,
        )
        return answer_draft(q, init, f"tar -tzf {archive} | wc -l", len(files), ("archive",))
    ext = rng.choice(sorted({f.rsplit(".", 1)[1] for f in files}))
    q = phrase(
        rng,
        ("How many .{e} files does the archive {a} contain?", "Count the .{e} files inside {a}."),
        NUM_HINTS,
        a=archive,
        e=ext,
    )
    n = sum(f.endswith("." + ext) for f in files)
    return answer_draft(q, init, f"tar -tzf {archive} | grep -c '\\.{ext}$'", n, ("archive",))


def archive_extract(rng: random.Random) -> Draft:
    archive = f"{rng.choice(('/root', '/srv/archives', '/var/backups'))}/{rng.choice(WORDS)}.tar.gz"
    files = _archive_files(rng)
    inner = rng.choice(files)
    token = f"token-{random_token(rng)}"
    init = _archive_init(archive, files, {inner: token})
    if rng.random() < 0.5:
        q = phrase(
            rng,
            (
                "The archive {a} contains the file {f}. What is written in it?",
                "Extract {f} from {a} and tell me its content.",
            ),
            a=archive,
            f=inner,
        )
        return answer_draft(q, init, f"tar -xzOf {archive} {inner}", token, ("archive",))
    dest = f"/opt/{rng.choice(WORDS)}_restore"
    q = phrase(
        rng,
        (
            "Extract the archive {a} into the directory {t} (create it if needed).",
            "Unpack {a} so that its files end up under {t}.",
        ),
        a=archive,
        t=dest,
    )
    check = " && ".join([*(f"[ -f {dest}/{f} ]" for f in files), f"grep -qx {token} {dest}/{inner}"])
    return change_draft(q, init, f"mkdir -p {dest} && tar -xzf {archive} -C {dest}", check, ("archive",))


def largest_file(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    names = [f"{rng.choice(STEMS)}_{i}.{rng.choice(EXTS)}" for i in range(rng.randint(4, 9))]
    sizes = rng.sample(range(100, 60_000), len(names))
    mode = rng.choice(("largest", "smallest", "deep"))
    if mode == "deep":
        sub = rng.choice(WORDS)
        names = [f"{rng.choice(('', sub + '/'))}{n}" for n in names]
    subdirs = sorted({f"{d}/{n.rsplit('/', 1)[0]}" for n in names if "/" in n})
    lines = [f"mkdir -p {' '.join([d, *subdirs])}"]
    lines += [f"head -c {s} /dev/urandom > {d}/{n}" for n, s in zip(names, sizes, strict=True)]
    init = "\n".join(lines)
    if mode == "largest":
        q = phrase(
            rng, ("Which file in {d} is the largest?", "What is the biggest file in {d}?"), NAME_HINTS, d=d
        )
        return answer_draft(q, init, f"ls -S {d} | head -1", names[sizes.index(max(sizes))], ("file", "size"))
    if mode == "smallest":
        q = phrase(
            rng, ("Which file in {d} is the smallest?", "Name the smallest file in {d}."), NAME_HINTS, d=d
        )
        return answer_draft(
            q, init, f"ls -Sr {d} | head -1", names[sizes.index(min(sizes))], ("file", "size")
        )
    q = phrase(
        rng,
        (
            "Which file is the largest anywhere under {d}, subdirectories included?",
            "Search {d} recursively and tell me the name of the biggest file.",
        ),
        NAME_HINTS,
        d=d,
    )
    biggest = names[sizes.index(max(sizes))].rsplit("/", 1)[-1]
    ref = f"find {d} -type f -printf '%s %f\\n' | sort -n | tail -1 | cut -d' ' -f2"
    return answer_draft(q, init, ref, biggest, ("file", "size", "find"))


def symlinks(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    targets = [f"{rng.choice(STEMS)}_{i}.{rng.choice(EXTS)}" for i in range(rng.randint(3, 7))]
    links = rng.sample(WORDS, rng.randint(1, 5))
    lines = [f"mkdir -p {d} && cd {d} && touch {' '.join(targets)}"]
    lines += [f"ln -s {d}/{rng.choice(targets)} {d}/{ln}" for ln in links]
    init = "\n".join(lines)
    mode = rng.choice(("count", "target", "create"))
    if mode == "count":
        q = phrase(
            rng,
            ("How many symbolic links are in {d}?", "Count the symlinks inside the directory {d}."),
            NUM_HINTS,
            d=d,
        )
        return answer_draft(q, init, f"find {d} -type l | wc -l", len(links), ("file", "link"))
    if mode == "target":
        link = rng.choice(links)
        target = next(ln.split()[2] for ln in lines[1:] if ln.endswith(f"{d}/{link}"))
        q = phrase(
            rng,
            (
                "{d}/{l} is a symbolic link. Where does it point to?",
                "What is the target of the symlink {d}/{l}?",
            ),
            ("Give the full path.",),
            d=d,
            l=link,
        )
        return answer_draft(q, init, f"readlink {d}/{link}", target, ("file", "link"))
    target = f"{d}/{rng.choice(targets)}"
    link = f"/usr/local/bin/{rng.choice(WORDS)}-{rng.choice(('current', 'latest', 'main'))}"
    q = phrase(
        rng,
        ("Create a symbolic link {l} that points to {t}.", "Make {l} a symlink to the file {t}."),
        l=link,
        t=target,
    )
    return change_draft(
        q, init, f"ln -s {target} {link}", f'[ "$(readlink {link})" = {target} ]', ("file", "link")
    )


def hidden_files(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    visible = [f"{rng.choice(STEMS)}_{i}" for i in range(rng.randint(2, 6))]
    hidden = [f".{rng.choice(STEMS)}_{i}" for i in range(rng.randint(1, 6))]
    hidden_dirs = [f".{w}" for w in rng.sample(WORDS, rng.randint(1, 3))]
    deep = [f"{hidden_dirs[0]}/.{rng.choice(STEMS)}_{i}" for i in range(rng.randint(0, 3))]
    init = f"mkdir -p {d} && cd {d} && mkdir {' '.join(hidden_dirs)} && touch {' '.join(visible + hidden + deep)}"
    mode = rng.choice(("files", "dirs", "deep"))
    if mode == "files":
        q = phrase(
            rng,
            (
                "How many hidden files are in {d}? Do not look inside subdirectories.",
                "Count the hidden files (names starting with a dot) directly in {d}.",
            ),
            NUM_HINTS,
            d=d,
        )
        return answer_draft(
            q, init, f"find {d} -maxdepth 1 -type f -name '.*' | wc -l", len(hidden), ("file", "hidden")
        )
    if mode == "dirs":
        q = phrase(
            rng,
            (
                "How many hidden directories are in {d}?",
                "Count the subdirectories of {d} whose name starts with a dot.",
            ),
            NUM_HINTS,
            d=d,
        )
        ref = f"find {d} -mindepth 1 -maxdepth 1 -type d -name '.*' | wc -l"
        return answer_draft(q, init, ref, len(hidden_dirs), ("file", "hidden"))
    q = phrase(
        rng,
        (
            "How many hidden files are there under {d}, including subdirectories?",
            "Count every hidden file below {d}, recursively.",
        ),
        NUM_HINTS,
        d=d,
    )
    return answer_draft(
        q, init, f"find {d} -type f -name '.*' | wc -l", len(hidden) + len(deep), ("file", "hidden")
    )


def create_files(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    if rng.random() < 0.6:
        prefix, ext, n = rng.choice(STEMS), rng.choice(EXTS), rng.randint(3, 12)
        q = phrase(
            rng,
            (
                "Create the directory {d} with {n} empty files in it named {s}_1.{e} to {s}_{n}.{e}.",
                "In a new directory {d}, make empty files {s}_1.{e}, {s}_2.{e}, ... up to {s}_{n}.{e}.",
            ),
            d=d,
            n=n,
            s=prefix,
            e=ext,
        )
        check = (
            f"[ $(find {d} -maxdepth 1 -type f -name '{prefix}_*.{ext}' | wc -l) -eq {n} ] "
            f"&& [ -f {d}/{prefix}_1.{ext} ] && [ -f {d}/{prefix}_{n}.{ext} ]"
        )
        return change_draft(
            q, "true", f"mkdir -p {d} && touch {d}/{prefix}_{{1..{n}}}.{ext}", check, ("file",)
        )
    parts = rng.sample(WORDS, 3)
    tree = f"{d}/{'/'.join(parts)}"
    q = phrase(
        rng,
        ("Create the nested directory {t}, with all missing parents.", "Make the directory path {t}."),
        t=tree,
    )
    return change_draft(q, "true", f"mkdir -p {tree}", f"[ -d {tree} ]", ("file",))
