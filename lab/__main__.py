"""`python -m lab up --scenario data/lab/demo.toml [--endpoints-file PATH]` and `python -m lab event ...`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any


def _value(raw: str) -> Any:
    """key=value parameters: JSON when it parses (numbers, true, lists), a comma list, else a string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.split(",") if "," in raw else raw


def _control_url(args: argparse.Namespace) -> str:
    if args.control:
        return str(args.control).rstrip("/") + "/"
    data = json.loads(Path(args.endpoints_file).read_text())
    return str(data["control"]["url"])


def _call(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}")


def cmd_up(args: argparse.Namespace) -> int:
    from lab.world import World

    overrides: dict[str, Any] = {}
    if args.noise_rate is not None:
        overrides["noise_rate"] = args.noise_rate
    if args.time_scale is not None:
        overrides["time_scale"] = args.time_scale
    if args.no_events:
        overrides["run_events"] = False
    world = World.start(args.scenario, **overrides)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        ep = world.endpoints()
        if args.endpoints_file:
            Path(args.endpoints_file).parent.mkdir(parents=True, exist_ok=True)
            Path(args.endpoints_file).write_text(json.dumps(ep, indent=2))
        print(f"omamori lab up: scenario {world.scenario.path}")
        print(f"  dns         {ep['dns']['host']}:{ep['dns']['port']} (UDP+TCP)")
        print(f"  rdap        {ep['rdap']['url']}  bootstrap {ep['rdap']['bootstrap_url']}")
        print(f"  whois       {ep['whois']['host']}:{ep['whois']['port']} for .{', .'.join(ep['whois']['tlds'])}")
        print(f"  ct rfc6962  {ep['ct']['rfc6962_url']}ct/v1/get-sth")
        print(f"  ct static   {ep['ct']['static_url']}checkpoint")
        print(f"  log list    {ep['ct']['log_list_url']}")
        print(f"  certstream  {ep['certstream']['url']}")
        print(f"  web proxy   {ep['web']['proxy_url']}  CA {ep['web']['ca_file']}")
        print(f"  smtp        {ep['smtp']['host']}:{ep['smtp']['port']}  messages {ep['smtp']['api_url']}messages")
        print(f"  control     {ep['control']['url']}")
        if args.endpoints_file:
            print(f"  endpoints   written to {args.endpoints_file}")
        print(f"{len(world.pending())} timed events pending; Ctrl-C to stop", flush=True)
        done.wait()
    finally:
        world.stop()
        print("omamori lab stopped", flush=True)
    return 0


def cmd_event(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"action": args.action}
    for item in args.params:
        key, sep, raw = item.partition("=")
        if not sep:
            print(f"parameter {item!r} is not key=value", file=sys.stderr)
            return 2
        body[key] = _value(raw)
    result = _call(_control_url(args) + "events", "POST", body)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("ok") else 1


def cmd_get(args: argparse.Namespace, what: str) -> int:
    print(json.dumps(_call(_control_url(args) + what), ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description="omamori's offline internet on 127.0.0.1")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start every server with a scenario and serve until Ctrl-C")
    up.add_argument("--scenario", default="data/lab/demo.toml")
    up.add_argument("--endpoints-file", help="write World.endpoints() as JSON here")
    up.add_argument("--noise-rate", type=float, help="background certificates per second")
    up.add_argument("--time-scale", type=float, help="multiply event times (0 = everything at once)")
    up.add_argument("--no-events", action="store_true", help="do not play timed events")

    def control_args(p: argparse.ArgumentParser) -> None:
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--control", help="control API URL")
        g.add_argument("--endpoints-file", help="endpoints JSON written by `up`")

    ev = sub.add_parser("event", help="apply an action to a running lab, e.g. "
                        "`event --endpoints-file E register_lookalike name=x.top site=clone-exact certificate=true`")
    control_args(ev)
    ev.add_argument("action")
    ev.add_argument("params", nargs="*", help="key=value (JSON values allowed)")
    for name in ("state", "endpoints", "actions"):
        control_args(sub.add_parser(name, help=f"print the running lab's {name}"))
    fire = sub.add_parser("fire", help="apply every pending timed event now")
    control_args(fire)

    args = parser.parse_args(argv)
    if args.cmd == "up":
        return cmd_up(args)
    if args.cmd == "event":
        return cmd_event(args)
    if args.cmd == "fire":
        print(json.dumps(_call(_control_url(args) + "fire", "POST", {}), indent=2))
        return 0
    return cmd_get(args, args.cmd)


if __name__ == "__main__":
    sys.exit(main())
