"""Task families about the system: users and groups, permissions, processes, environment variables and cron."""

from __future__ import annotations

import random
from dataclasses import replace

from envs.os_shell.families.common import (
    APPS,
    EXTS,
    GROUPS,
    NAME_HINTS,
    NUM_HINTS,
    STEMS,
    USERS,
    Draft,
    answer_draft,
    change_draft,
    heredoc,
    phrase,
    random_token,
    random_workdir,
    runtime_answer_draft,
)


def group_members(rng: random.Random) -> Draft:
    group = rng.choice(GROUPS)
    people = rng.sample(USERS, rng.randint(4, 8))
    k = rng.randint(1, len(people) - 1)
    members, others = people[:k], people[k:]
    lines = [f"groupadd {group}"]
    lines += [f"useradd -M -G {group} {u}" for u in members] + [f"useradd -M {u}" for u in others]
    order = lines[:1] + rng.sample(lines[1:], len(lines) - 1)
    init = "\n".join(order)
    if rng.random() < 0.5:
        q = phrase(
            rng,
            (
                "How many users are members of the group '{g}'?",
                "Count the members of the {g} group on this system.",
                "The group {g} has some supplementary members. How many?",
            ),
            NUM_HINTS,
            g=group,
        )
        ref = f"getent group {group} | cut -d: -f4 | tr ',' '\\n' | wc -l"
        return answer_draft(q, init, ref, len(members), ("user", "group"))
    user = rng.choice(people)
    q = phrase(
        rng,
        ("Is the user {u} a member of the group {g}?", "Does {u} belong to the {g} group?"),
        ("Answer yes or no.",),
        u=user,
        g=group,
    )
    ref = f"id -nG {user} | grep -qw {group} && echo yes || echo no"
    return answer_draft(q, init, ref, "yes" if user in members else "no", ("user", "group"))


def create_user(rng: random.Random) -> Draft:
    user = rng.choice(USERS)
    mode = rng.choice(("group", "shell", "uid"))
    if mode == "group":
        group = rng.choice(GROUPS)
        q = phrase(
            rng,
            (
                "Create a user named {u} with a home directory, and add them to the existing group {g}.",
                "Please add a new account {u} (with a home directory under /home) that is a member of {g}.",
            ),
            u=user,
            g=group,
        )
        check = f"id -nG {user} | grep -qw {group} && [ -d /home/{user} ]"
        return change_draft(q, f"groupadd {group}", f"useradd -m -G {group} {user}", check, ("user", "group"))
    if mode == "shell":
        q = phrase(
            rng,
            (
                "Create a user {u} whose login shell is /bin/bash, with a home directory.",
                "Add an account named {u} that has a home directory and uses bash as its login shell.",
            ),
            u=user,
        )
        check = f'[ "$(getent passwd {user} | cut -d: -f7)" = /bin/bash ] && [ -d /home/{user} ]'
        return change_draft(q, "true", f"useradd -m -s /bin/bash {user}", check, ("user",))
    uid = rng.randint(1500, 4999)
    q = phrase(
        rng,
        ("Create a user named {u} with the user ID {i}.", "Add a user account {u} whose UID is exactly {i}."),
        u=user,
        i=uid,
    )
    check = f'[ "$(id -u {user})" = {uid} ]'
    return change_draft(q, "true", f"useradd -u {uid} {user}", check, ("user",))


_MODES = {"600": "rw-------", "640": "rw-r-----", "644": "rw-r--r--", "700": "rwx------", "750": "rwxr-x---"}


def permissions_change(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    mode = rng.choice(("exec", "octal", "all"))
    if mode == "all":
        names = [f"{rng.choice(STEMS)}_{i}.sh" for i in range(rng.randint(2, 5))]
        extra = [f"{rng.choice(STEMS)}_{i}.txt" for i in range(rng.randint(1, 3))]
        init = f"mkdir -p {d} && cd {d}\n" + "\n".join(
            f"printf '#!/bin/bash\\necho {n}\\n' > {n}" for n in names
        )
        init += f"\ntouch {' '.join(extra)}\nchmod 644 {d}/*"
        q = phrase(
            rng,
            (
                "Make every .sh file in {d} executable by its owner.",
                "All shell scripts (*.sh) in {d} should be runnable by their owner; fix their permissions.",
            ),
            d=d,
        )
        check = f"[ -z \"$(find {d} -name '*.sh' ! -perm -u+x)\" ]"
        return change_draft(q, init, f"chmod u+x {d}/*.sh", check, ("permission",))
    f = f"{d}/{rng.choice(STEMS)}.sh"
    init = f"mkdir -p {d}\nprintf '#!/bin/bash\\necho ok\\n' > {f}\nchmod 644 {f}"
    if mode == "exec":
        q = phrase(
            rng,
            (
                "Make the script {f} executable by its owner.",
                "I cannot run {f}: give its owner execute permission.",
            ),
            f=f,
        )
        check = f'[ "$(stat -c %A {f} | cut -c4)" = x ]'
        return change_draft(q, init, f"chmod u+x {f}", check, ("permission",))
    octal = rng.choice([m for m in _MODES if m != "644"])
    q = phrase(
        rng,
        ("Set the permissions of {f} to {o}.", "Change the mode of {f} so that `ls -l` shows -{s}."),
        f=f,
        o=octal,
        s=_MODES[octal],
    )
    return change_draft(q, init, f"chmod {octal} {f}", f'[ "$(stat -c %a {f})" = {octal} ]', ("permission",))


def permissions_find(rng: random.Random) -> Draft:
    d = random_workdir(rng)
    names = [f"{rng.choice(STEMS)}_{i}.{rng.choice(EXTS)}" for i in range(rng.randint(5, 10))]
    init = f"mkdir -p {d} && cd {d} && touch {' '.join(names)} && chmod 644 *"
    if rng.random() < 0.5:
        odd = rng.choice(names)
        q = phrase(
            rng,
            (
                "One file in {d} is readable, writable and executable by everyone (mode 777). Which one?",
                "Find the file in {d} whose permissions are 777.",
            ),
            NAME_HINTS,
            d=d,
        )
        return answer_draft(
            q,
            init + f"\nchmod 777 {d}/{odd}",
            f"find {d} -type f -perm 777 -printf '%f\\n'",
            odd,
            ("permission", "find"),
        )
    exe = rng.sample(names, rng.randint(1, len(names) - 1))
    init += "\n" + "\n".join(f"chmod {rng.choice(('744', '755', '700'))} {d}/{n}" for n in exe)
    q = phrase(
        rng,
        (
            "How many files in {d} are executable by their owner?",
            "Count the files in {d} that have the owner's execute bit set.",
        ),
        NUM_HINTS,
        d=d,
    )
    return answer_draft(q, init, f"find {d} -type f -perm -u+x | wc -l", len(exe), ("permission", "find"))


def processes(rng: random.Random) -> Draft:
    name = rng.choice(
        ("datasync", "reportd", "indexer", "mailqd", "backupd", "thumbgen", "crawlerd", "metricsd")
    )
    init = f"cp /bin/sleep /usr/local/bin/{name}"
    mode = rng.choice(("pid", "kill", "count"))
    if mode == "pid":
        q = phrase(
            rng,
            (
                "A process called {n} is running in the background. What is its PID?",
                "Find the process ID of the running program named {n}.",
            ),
            NUM_HINTS,
            n=name,
        )
        start = f"sleep 3600 & {name} 3600 &"
        return runtime_answer_draft(q, init, f"pgrep -x {name}", ("process",), start=start)
    if mode == "kill":
        q = phrase(
            rng,
            (
                "A runaway process named {n} is running. Stop it.",
                "Kill every running process called {n}.",
                "Terminate the background program {n}; it must no longer be running.",
            ),
            n=name,
        )
        start = " ".join(f"{name} 3600 &" for _ in range(rng.randint(1, 3)))
        # A killed child of the agent's shell may linger as a zombie until reaped: only live ones count.
        check = f"! ps -C {name} -o stat= | grep -qv Z"
        return change_draft(q, init, f"pkill -x {name}", check, ("process",), start=start)
    k = rng.randint(2, 5)
    q = phrase(
        rng,
        ("How many processes named {n} are running?", "Count the running instances of the program {n}."),
        NUM_HINTS,
        n=name,
    )
    draft = answer_draft(q, init, f"pgrep -xc {name}", k, ("process",))
    return replace(draft, start=" ".join(f"{name} 3600 &" for _ in range(k)))


def env_vars(rng: random.Random) -> Draft:
    app = rng.choice(APPS)
    path = rng.choice((f"/etc/profile.d/{app}.sh", f"/root/.{app}rc", f"/etc/{app}/env.sh"))
    keys = rng.sample(("MODE", "HOME", "PORT", "LEVEL", "REGION", "USER", "TOKEN"), 4)
    values = {
        "MODE": lambda: rng.choice(("production", "staging", "debug")),
        "HOME": lambda: f"/opt/{app}",
        "PORT": lambda: str(rng.randint(1024, 65000)),
        "LEVEL": lambda: rng.choice(("info", "warn", "trace")),
        "REGION": lambda: rng.choice(("eu-west", "us-east", "ap-south")),
        "USER": lambda: rng.choice(USERS),
        "TOKEN": lambda: random_token(rng, 12),
    }
    var = f"{app.upper()}_{keys[0]}"
    lines = ["# environment for " + app]
    final = ""
    for key in keys:
        value = values[key]()
        lines.append(f"export {app.upper()}_{key}={value}")
        if key == keys[0]:
            final = value
    rng.shuffle(lines)
    if rng.random() < 0.4:  # a later assignment overrides the first one, as sourcing the file would do
        final = values[keys[0]]() + "2"
        lines.append(f"{var}={final}")
    init = f"mkdir -p {path.rsplit('/', 1)[0]}\n" + heredoc(path, "\n".join(lines) + "\n")
    q = phrase(
        rng,
        (
            "The file {p} sets the environment variable {v}. What is its value once the file is sourced?",
            "What value does {v} get when {p} is sourced?",
            "Tell me the value of {v} as defined by {p}.",
        ),
        ("Answer with the value only.", ""),
        p=path,
        v=var,
    ).strip()
    return answer_draft(q, init, f'(. {path}; echo "${var}")', final, ("env",))


def cron_jobs(rng: random.Random) -> Draft:
    jobs = rng.sample(
        ("backup", "rotate", "cleanup", "report", "sync", "reindex", "healthcheck", "purge"),
        rng.randint(3, 7),
    )
    hours = rng.sample(range(24), len(jobs))
    entries = [
        f"{rng.randint(0, 59)} {h} * * * /usr/local/bin/{j}.sh" for j, h in zip(jobs, hours, strict=True)
    ]
    comments = [
        f"# {rng.choice(('nightly tasks', 'added by ops', 'do not edit', 'maintenance'))}"
        for _ in range(rng.randint(1, 3))
    ]
    lines = entries + comments
    rng.shuffle(lines)
    mode = rng.choice(("count", "hour", "user"))
    if mode == "user":
        path = f"/etc/cron.d/{rng.choice(APPS)}"
        owners = [rng.choice(("root", "www-data", "backup")) for _ in entries]
        body = [
            f"{e.split(' /', 1)[0]} {o} /{e.split(' /', 1)[1]}" for e, o in zip(entries, owners, strict=True)
        ]
        body += comments
        rng.shuffle(body)
        owner = rng.choice(owners)
        init = "mkdir -p /etc/cron.d\n" + heredoc(path, "".join(b + "\n" for b in body))
        q = phrase(
            rng,
            ("How many jobs in {p} run as the user {u}?", "Count the cron entries in {p} executed as {u}."),
            NUM_HINTS,
            p=path,
            u=owner,
        )
        ref = f"grep -v '^#' {path} | awk '$6 == \"{owner}\"' | wc -l"
        return answer_draft(q, init, ref, owners.count(owner), ("cron",))
    init = "printf '%s\\n' " + " ".join(f"'{ln}'" for ln in lines) + " | crontab -"
    if mode == "count":
        q = phrase(
            rng,
            (
                "How many jobs are scheduled in root's crontab?",
                "Count the active entries of the root user's crontab.",
            ),
            NUM_HINTS,
        )
        return answer_draft(q, init, "crontab -l | grep -vc '^#'", len(entries), ("cron",))
    i = rng.randrange(len(jobs))
    q = phrase(
        rng,
        (
            "According to root's crontab, at which hour of the day does {j}.sh run?",
            "Root's crontab runs /usr/local/bin/{j}.sh once a day. At what hour (0-23)?",
        ),
        NUM_HINTS,
        j=jobs[i],
    )
    return answer_draft(q, init, f"crontab -l | grep {jobs[i]}.sh | awk '{{print $2}}'", hours[i], ("cron",))
