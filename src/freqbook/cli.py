"""Command line: ``python -m freqbook run|build|list|claims``.

Examples
--------
``python -m freqbook run --profile smoke siren/01-image-fitting``
    Execute one notebook at the smoke profile into ``build/notebooks``. On a terminal a run shows
    an overall bar with an ETA, the cells being executed and the training bars; Ctrl-C stops it
    and rerunning resumes.
``python -m freqbook build``
    Render the staged notebooks and the book pages into ``build/html``.
``python -m freqbook claims siren --profile cpu``
    Print the paper-vs-ours table of a chapter as Markdown.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from freqbook.profiles import DEFAULT_PROFILE, PROFILES, ProfileError


def _parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"error: --param expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = yaml.safe_load(value)
    return params


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="freqbook", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute notebooks with papermill (cached)")
    run.add_argument("notebooks", nargs="*", help="chapter/name keys, file names or chapters")
    run.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {', '.join(PROFILES)}")
    run.add_argument("--seed", type=int, default=None, help="inject this seed")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="inject another notebook parameter (repeatable)")
    run.add_argument("--force", action="store_true", help="ignore the cache")
    run.add_argument("--display", choices=("auto", "bars", "lines"), default="auto",
                     help="progress bars with ETA (a terminal's default) or one line per notebook")

    build = sub.add_parser("build", help="render the book into build/html")
    build.add_argument(
        "--profile", default=DEFAULT_PROFILE, help="profile named on the status page"
    )
    build.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")

    sub.add_parser("list", help="list the notebooks and their last run")

    claims = sub.add_parser("claims", help="print a chapter's paper-vs-ours table")
    claims.add_argument("chapter")
    claims.add_argument("--profile", default=DEFAULT_PROFILE)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns a process exit code. Errors are printed as one line."""
    from freqbook.runner import RunError, RunInterrupted

    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            from freqbook.profiles import check_profile
            from freqbook.runner import run_notebooks, stage_dir

            check_profile(args.profile)
            extra = _parse_params(args.param)
            if args.seed is not None:
                extra["seed"] = args.seed
            runs = run_notebooks(args.notebooks, args.profile, extra, force=args.force,
                                 display=args.display)
            total = sum(r.wall_s for r in runs if r.status == "ran")
            print(f"{len(runs)} notebook(s), {sum(r.status == 'ran' for r in runs)} executed "
                  f"in {total:.1f} s; executed copies in {stage_dir()}")
        elif args.command == "build":
            from freqbook.book import build

            index = build(args.profile, strict=not args.no_strict)
            print(f"book rendered: {index}")
        elif args.command == "list":
            from freqbook.runner import discover, read_meta

            for key in discover():
                meta = read_meta(key)
                last = (f"{meta['profile']}, {meta['wall_s']:.1f} s, {meta['finished']}"
                        if meta else "never run")
                print(f"{key:45s} {last}")
        elif args.command == "claims":
            from freqbook.profiles import check_profile
            from freqbook.results.tables import claims_table

            check_profile(args.profile)
            print(claims_table(args.chapter, args.profile).to_markdown())
    except RunInterrupted as err:
        print(str(err), file=sys.stderr)
        return 130  # the shell's code for Ctrl-C
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (RunError, ProfileError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
