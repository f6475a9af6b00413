"""Commands that start a server in the foreground: they never end by themselves (issue 11 §2).

A runbook says "start the app" or "open Prisma Studio to check" with ``npm run dev``,
``rails s``, ``uvicorn app:app``, ``docker compose up``: a reader runs it in a terminal and
leaves it there. As a plan step it hangs until its timeout and then rolls back a healthy
deployment, so ``shellparse.never_ending`` reports it and the importer hands it to a person
(a manual step "in another terminal"), never a plain step or gate.

What counts, read from the command's own words (the tools' documented behaviour), not from the
document's prose:

- a package script named like a server (``npm run dev``, ``yarn start``, ``pnpm serve``,
  ``npm run prisma:studio``, ``npm start``): by the npm/yarn convention ``start``/``dev``/
  ``serve``/``watch``/``studio``/``storybook`` run until stopped;
- framework servers: ``rails s|server``, ``flask run``, ``uvicorn``, ``gunicorn``,
  ``hypercorn``, ``python -m http.server``, ``manage.py runserver``, ``php artisan serve``,
  ``next dev|start``, ``vite`` (dev), ``ng serve``, ``nodemon``, ``jupyter notebook|lab``,
  ``streamlit run``, ``hugo server``, ``mkdocs serve``, ``http-server``, ``serve``,
  ``prisma studio``, ``celery … worker``, ``sidekiq``;
- ``docker compose up`` / ``docker-compose up`` without ``-d``/``--detach`` (it attaches to
  the containers' logs), ``docker run`` with ``-it`` is already interactive elsewhere.

A server started in the background (``… &``, ``nohup``, ``-d``) ends its command at once and
is not reported: bashlex puts ``&`` outside the command's words, and the caller checks it.
"""

from __future__ import annotations

import re

# npm/yarn/pnpm/bun script names that by convention run until stopped
_SERVER_SCRIPT = re.compile(
    r"^(?:start|dev|serve|server|watch|studio|storybook|preview)(?:$|:)|"
    r"[:\-_.](?:serve|server|watch|studio|storybook)$",
)
_RUNNERS = frozenset({"npm", "yarn", "pnpm", "bun"})
_NPX = frozenset({"npx", "pnpx", "bunx"})
# program -> subcommands that serve (an empty tuple: the program itself serves)
_SERVE_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "rails": ("s", "server"),
    "flask": ("run",),
    "uvicorn": (),
    "gunicorn": (),
    "hypercorn": (),
    "daphne": (),
    "nodemon": (),
    "http-server": (),
    "live-server": (),
    "serve": (),
    "next": ("dev", "start"),
    "nuxt": ("dev", "start"),
    "vite": ("", "dev", "serve", "preview"),
    "ng": ("serve", "s"),
    "jupyter": ("notebook", "lab"),
    "streamlit": ("run",),
    "hugo": ("server", "serve"),
    "mkdocs": ("serve",),
    "jekyll": ("serve", "s"),
    "prisma": ("studio",),
    "sidekiq": (),
    "webpack-dev-server": (),
    "ngrok": ("http", "tcp", "start"),
}
_PY_SERVER_MODULES = frozenset({"http.server", "SimpleHTTPServer", "uvicorn", "gunicorn", "flask"})


def server(name: str, args: list[str]) -> str | None:
    """Why ``name args…`` runs a server in the foreground, else None."""
    positional = [a for a in args if not a.startswith("-")]
    if name in _RUNNERS:
        script = _script(name, args)
        if script is not None and _SERVER_SCRIPT.search(script):
            return f"`{name} {'run ' if 'run' in args[:1] else ''}{script}` starts a server"
        return None
    if name in _NPX and positional:
        return server(positional[0].rsplit("/", 1)[-1], args[args.index(positional[0]) + 1 :])
    if name in ("python", "python3") and "-m" in args:
        module = args[args.index("-m") + 1] if args.index("-m") + 1 < len(args) else ""
        if module in _PY_SERVER_MODULES:
            return f"`python -m {module}` starts a server"
        return None
    if name in ("python", "python3") and positional[:1] and positional[0].endswith("manage.py"):
        name, args, positional = "manage.py", args[1:], positional[1:]
    if name.endswith("manage.py") and positional[:1] == ["runserver"]:
        return "`manage.py runserver` starts a server"
    if name == "php" and positional[:2] == ["artisan", "serve"]:
        return "`php artisan serve` starts a server"
    if name == "celery" and "worker" in positional:
        return "`celery worker` runs until stopped"
    # `docker compose -f mocks/compose.yml up`: the file is a value, `up` the verb after it
    if name in ("docker", "podman") and positional[:1] == ["compose"] and "up" in positional:
        return _compose_up(args)
    if name in ("docker-compose", "podman-compose") and "up" in positional:
        return _compose_up(args)
    subs = _SERVE_SUBCOMMANDS.get(name)
    if subs is None:
        return None
    if not subs or (positional[:1] and positional[0] in subs) or ("" in subs and not positional):
        shown = " ".join([name, *positional[:1]]) if subs and positional else name
        return f"`{shown}` starts a server"
    return None


def _script(runner: str, args: list[str]) -> str | None:
    """The script name ``npm run X`` / ``yarn X`` / ``npm start`` runs."""
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return None
    if words[0] in ("run", "run-script"):
        return words[1] if len(words) > 1 else None
    if words[0] in ("start", "dev", "serve"):
        return words[0]
    if runner in ("yarn", "pnpm", "bun") and words[0] not in (
        "install",
        "add",
        "remove",
        "build",
        "test",
        "exec",
        "dlx",
        "why",
        "upgrade",
        "init",
        "create",
    ):
        return words[0]  # `yarn dev`: yarn runs a script by its bare name
    return None


def _compose_up(args: list[str]) -> str | None:
    if {"-d", "--detach", "--wait"} & set(args) or any(re.fullmatch(r"-\w*d\w*", a) for a in args):
        return None
    return "`docker compose up` without `-d` stays attached to the containers"
