"""`python -m benchmarks.kanboard_qa`: run a configuration, or combine result files into one report.

    python -m benchmarks.kanboard_qa --model /tmp/models/q05.gguf --constrained on --subset 12
    python -m benchmarks.kanboard_qa --model /tmp/models/q15.gguf --board household
    python -m benchmarks.kanboard_qa --router /tmp/models/q05.gguf,/tmp/models/q15.gguf
    python -m benchmarks.kanboard_qa compare /tmp/models/q05.gguf /tmp/models/q15.gguf --subset 10
    python -m benchmarks.kanboard_qa report bench-out/*.json --out bench-out
    python -m benchmarks.kanboard_qa rescore bench-out/*.json   # after a change to the scorer

The agent asks through the servers the example config ships (`--servers shipped`: Kanboard and
Docker, in-process; the Docker engine one that is not there unless `--docker-host` names one) or
the Kanboard server alone (`--servers kanboard`, for comparison with earlier numbers).
A model is a name from the config's `[models]` (with --config) or a path to a GGUF file; it runs at
temperature 0. `--warm off` clears the model's KV and prompt caches before every question: through
the model's `reset()`/`clear_cache()` when it has one, else by turning its saved-state cache off
and sending a throwaway one-line request, which evicts the cached prompt. A local model's `reset()`
leaves it as a new process finds it: the stable prefix saved on disk (`--prefix-cache`, default
the config's `[prefix_cache]`) is still there, as it is for a one-shot `homelab-agent ask`. Each run writes
LABEL.json, LABEL.md and LABEL.png into --out. `--board` picks the boards asked (default: all the
reported ones, each in its own rows: `homelab`, the board the tools were developed on,
`household`, held out and never used for tuning, and `big`, a generated board of 1,000+ tasks, also
held out). `--board dev` asks the tuning board (a makerspace): only when named, never in `all`,
and its numbers are never reported as accuracy.
`compare SMALL LARGE` runs always-LARGE (all tools) and the router over SMALL and LARGE side by
side in one run, question by question, and prints whether the router meets its target (median
latency at most half, accuracy within 3 points).
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio

from agent.config import AgentSettings, Config, PrefixCacheSettings, RouterSettings, load_config
from agent.messages import Message
from agent.models.base import Model
from agent.models.prefix_states import PrefixStates
from agent.models.settings import LlamaSettings, ModelSettings
from agent.policy import Policy
from agent.router import Router
from benchmarks.helpers import progress, slug
from benchmarks.kanboard_qa.questions import Question
from benchmarks.kanboard_qa.report import load, router_verdict, summarise, write_report
from benchmarks.kanboard_qa.runner import Contender, rescore, run_questions, run_side_by_side
from benchmarks.kanboard_qa.servers import MISSING_DOCKER, Servers
from benchmarks.kanboard_qa.suites import Suite, check_ids, chosen, suites
from benchmarks.runner import Reset, Results
from homelab_common.logs import configure_logging
from tools.kanboard.settings import KanboardSettings

DEFAULT_OUT = Path("bench-out")


def _on_off(value: str) -> bool:
    if value not in {"on", "off"}:
        raise argparse.ArgumentTypeError("expected on or off")
    return value == "on"


def model_settings(
    spec: str,
    config: Config | None,
    *,
    constrained: bool | None,
    warm: bool,
    max_tokens: int | None = None,
    threads: int | None = None,
    speculative: str | None = None,
) -> ModelSettings:
    """Settings for `spec` (a config model name or a GGUF path) at temperature 0."""
    base = config.models[spec] if config is not None and spec in config.models else LlamaSettings(source=spec)
    update: dict[str, Any] = {"temperature": 0.0}
    if max_tokens is not None:
        update["max_tokens"] = max_tokens
    if isinstance(base, LlamaSettings):  # the rest are llama.cpp settings
        if threads is not None:
            update["n_threads"] = threads
        if constrained is not None:
            update["constrained"] = constrained
        if speculative is not None:
            update["speculative"] = speculative
        if not warm:
            update["cache_ram_mb"] = 0
    return base.model_copy(update=update)


def build(spec: str, settings: ModelSettings, models_dir: Path, states: PrefixStates | None = None) -> Model:
    """A running model for `spec`; a local one keeps its stable prompt prefix in `states`."""
    name = Path(spec).stem if spec.endswith(".gguf") else spec
    from agent.models.factory import build_model

    model: Model = build_model(settings, name, models_dir, states)
    return model


def prefix_states(value: str | None, config: Config | None) -> PrefixStates | None:
    """The prefix-state files a run uses: --prefix-cache DIR, "off", or the config's (default) one."""
    if value == "off":
        return None
    cache = config.prefix_cache if config else PrefixCacheSettings()
    if value is not None:
        cache = cache.model_copy(update={"dir": value})
    return PrefixStates(Path(cache.dir), cache.max_mb * 1024**2) if cache.max_mb else None


def cold_reset(models: list[Model]) -> Reset:
    """Clear every model's caches before a question (see the module docstring for how)."""

    async def reset() -> None:
        for m in models:
            clear = getattr(m, "reset", None) or getattr(m, "clear_cache", None)
            if callable(clear):
                outcome = clear()
                if inspect.isawaitable(outcome):
                    await outcome
            else:
                await m.respond([Message.user("Reply with OK.")], [])

    return reset


def _label(args: argparse.Namespace) -> str:
    if args.label:
        return str(args.label)
    if args.router:
        small, large = (Path(p).stem if p.endswith(".gguf") else p for p in args.router.split(",", 1))
        base = f"router {small}+{large}"
    else:
        base = Path(args.model).stem if args.model.endswith(".gguf") else args.model
    constrained = {None: "", True: " constrained", False: " free"}[args.constrained]
    alone = " kanboard-alone" if args.servers == "kanboard" else ""
    return f"{base}{constrained}{'' if args.warm else ' cold'}{alone}"


def _run(args: argparse.Namespace) -> int:
    config, make = _builder(args)
    if args.router:
        small_spec, large_spec = args.router.split(",", 1)
        small, large = make(small_spec), make(large_spec)
        built = [small, large]
        routing = (config.router if config else RouterSettings()).model_copy(
            update={"mode": args.router_mode}
        )
        model: Model | Policy = Router(small=small, large=large, settings=routing)
    else:
        model = make(args.model)
        built = [model]
    label = _label(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = _agent_settings(args, config)
    described = {
        "model": args.model,
        "router": args.router,
        "router_mode": args.router_mode if args.router else None,
        "router_settings": routing.model_dump() if args.router else None,
        "constrained": args.constrained,
        "warm": args.warm,
        "subset": args.subset,
        "writes": args.writes,
        "max_steps": args.max_steps,
        "max_tokens": args.max_tokens,
        "threads": args.threads,
        "names": args.names,
        "prefix_cache": args.prefix_cache,
        "speculative": args.speculative,
        "ground": args.ground,
        "restate": args.restate,
        "quote": args.quote,
    }
    runs: list[Results] = []

    async def ask_all() -> None:
        try:
            for suite in suites(args.board):
                questions = _questions(args, suite)
                partial = out / f"{slug(label)}-{suite.name}.partial.jsonl"
                partial.write_text("")
                results = await run_questions(
                    model,
                    questions,
                    label=label,
                    config={**described, "questions": [q.id for q in questions]},
                    agent_settings=settings,
                    reset=None if args.warm else cold_reset(built),
                    on_outcome=progress(partial),
                    suite=suite,
                    kanboard=_kanboard(args),
                    servers=_servers(args),
                )
                partial.unlink()
                path = out / f"{slug(label)}-{suite.name}.json"
                path.write_text(results.model_dump_json(indent=1))
                runs.append(results)
                s = summarise(results)
                print(
                    f"{label} [{suite.name}]: accuracy {s.accuracy:.0%} over {s.n}, "
                    f"median {s.median_s:.1f}s, p90 {s.p90_s:.1f}s -> {path}"
                )
        finally:
            for m in built:
                await m.aclose()

    anyio.run(ask_all)
    md, png = write_report(runs, out, slug(label))
    print(f"report: {md}, {png}")
    return 0


def _compare(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kanboard_qa compare",
        description="Always-LARGE against the router over SMALL and LARGE, side by side in one run.",
    )
    parser.add_argument("small", help="the router's small model (config name or .gguf path)")
    parser.add_argument("large", help="the large model (config name or .gguf path)")
    _common_options(parser)
    parser.add_argument("--name", default="compare", help="file name of the combined report")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    config, make = _builder(args)
    alone, small, large = make(args.large), make(args.small), make(args.large)
    routing = (config.router if config else RouterSettings()).model_copy(update={"mode": "auto"})
    router = Router(small=small, large=large, settings=routing)
    cold = "" if args.warm else " cold"
    described = {
        "small": args.small,
        "large": args.large,
        "constrained": args.constrained,
        "warm": args.warm,
        "max_steps": args.max_steps,
        "max_tokens": args.max_tokens,
        "threads": args.threads,
    }
    contenders = [
        Contender(
            f"always-large ({_stem(args.large)}){cold}",
            alone,
            None if args.warm else cold_reset([alone]),
            {**described, "configuration": "always-large"},
        ),
        Contender(
            f"router ({_stem(args.small)}+{_stem(args.large)}){cold}",
            router,
            None if args.warm else cold_reset([small, large]),
            {**described, "configuration": "router", "router_settings": routing.model_dump()},
        ),
    ]
    runs = _side_by_side(args, contenders, _agent_settings(args, config), closing=[alone, small, large])
    md = Path(args.out) / f"{args.name}.md"
    verdicts = [f"- {both[0].board}: {router_verdict(both[0], both[1])}" for both in runs]
    md.write_text(md.read_text() + "\n## Router target\n\n" + "\n".join(verdicts) + "\n")
    print(md.read_text())
    return 0


def _ablate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kanboard_qa ablate",
        description="One model under several values of agent.quote_lists, side by side in one run "
        "(question by question, each with its own copy of the model, so load hits all alike).",
    )
    parser.add_argument("model", help="model name from --config, or a .gguf path")
    parser.add_argument("--quotes", default="direct,off", help="values of agent.quote_lists to compare")
    _common_options(parser)
    parser.add_argument("--name", default="ablate", help="file name of the combined report")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    config, make = _builder(args)
    base = _agent_settings(args, config)
    values = [v.strip() for v in args.quotes.split(",") if v.strip()]
    contenders = [
        Contender(
            f"{_stem(args.model)} quote={value}",
            make(args.model),
            config={"model": args.model, "quote_lists": value, "threads": args.threads},
            settings=base.model_copy(update={"quote_lists": value}),
        )
        for value in values
    ]
    models = [c.model for c in contenders if not isinstance(c.model, Policy)]
    _side_by_side(args, contenders, base, closing=models)
    print((Path(args.out) / f"{args.name}.md").read_text())
    return 0


def _side_by_side(
    args: argparse.Namespace,
    contenders: list[Contender],
    settings: AgentSettings,
    *,
    closing: Sequence[Model],
) -> list[list[Results]]:
    """`contenders` question by question on every board (`compare`, `ablate`): one result file per
    contender and board, and the combined report NAME.md; the runs, by board. Closes `closing`."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[list[Results]] = []

    async def ask_all() -> None:
        try:
            for suite in suites(args.board):
                partial = out / f"{args.name}-{suite.name}.partial.jsonl"
                partial.write_text("")
                questions = _questions(args, suite)
                asked = [q.id for q in questions]
                board = await run_side_by_side(
                    [replace(c, config={**c.config, "questions": asked}) for c in contenders],
                    questions,
                    agent_settings=settings,
                    on_outcome=progress(partial),
                    suite=suite,
                    kanboard=_kanboard(args),
                    servers=_servers(args),
                )
                partial.unlink()
                for results in board:
                    name = f"{args.name}-{slug(results.label)}-{suite.name}.json"
                    (out / name).write_text(results.model_dump_json(indent=1))
                runs.append(board)
        finally:
            for m in closing:
                await m.aclose()

    anyio.run(ask_all)
    write_report([r for board in runs for r in board], out, args.name)
    return runs


def _servers(args: argparse.Namespace) -> Servers:
    """The servers this run asks through (--servers, --docker-host)."""
    return Servers(mode=args.servers, docker_host=args.docker_host or MISSING_DOCKER)


def _kanboard(args: argparse.Namespace) -> KanboardSettings | None:
    """The Kanboard server's options for this run (--names), or None for its defaults."""
    return KanboardSettings(names=args.names) if args.names else None


def _builder(args: argparse.Namespace) -> tuple[Config | None, Callable[[str], Model]]:
    """The config named by --config, and a function building a model by spec with the run's options."""
    config = load_config(args.config) if args.config else None
    models_dir = Path(config.models_dir if config else "~/.cache/homelab-agent/models").expanduser()
    states = prefix_states(args.prefix_cache, config)

    def make(spec: str) -> Model:
        settings = model_settings(
            spec,
            config,
            constrained=args.constrained,
            warm=args.warm,
            max_tokens=args.max_tokens,
            threads=args.threads,
            speculative=args.speculative,
        )
        return build(spec, settings, models_dir, states)

    return config, make


def _stem(spec: str) -> str:
    return Path(spec).stem if spec.endswith(".gguf") else spec


def _questions(args: argparse.Namespace, suite: Suite) -> list[Question]:
    """The questions of `suite` this run asks: those of --questions on this board, else --subset."""
    ids = args.questions.split(",") if args.questions else []
    check_ids(ids, writes=args.writes)
    return chosen(suite, ids=ids, subset=args.subset, writes=args.writes)


def _agent_settings(args: argparse.Namespace, config: Config | None) -> AgentSettings:
    update: dict[str, object] = {"max_steps": args.max_steps}
    if args.ground is not None:
        update["ground_arguments"] = args.ground
    if args.restate is not None:
        update["restate_question"] = args.restate
    if args.quote is not None:
        update["quote_lists"] = args.quote
    return (config.agent if config else AgentSettings()).model_copy(update=update)


def _common_options(parser: argparse.ArgumentParser) -> None:
    """The options every run takes: model settings, questions, limits, output."""
    parser.add_argument(
        "--constrained", type=_on_off, default=None, help="on|off; default: the model's setting"
    )
    parser.add_argument(
        "--warm", type=_on_off, default=True, help="off: clear model caches before each question"
    )
    parser.add_argument("--subset", type=int, default=None, help="N questions spread over the categories")
    parser.add_argument("--questions", help="comma-separated question ids (overrides --subset)")
    parser.add_argument(
        "--board",
        default="all",
        help="boards to ask about: homelab, household, big (both held out), or all of those three; "
        "dev: the tuning board, only when named, never reported",
    )
    parser.add_argument(
        "--names", choices=["enum", "list", "off"], default=None, help="board names in tool schemas"
    )
    parser.add_argument(
        "--servers",
        choices=["shipped", "kanboard"],
        default="shipped",
        help="shipped: the example config's servers (Kanboard and Docker); kanboard: Kanboard alone",
    )
    parser.add_argument(
        "--docker-host",
        default=None,
        help="DOCKER_HOST of the Docker server (a scratch engine...); default: a socket that is not there",
    )
    parser.add_argument(
        "--ground", type=_on_off, default=None, help="on|off: calls grounded in the conversation (ablation)"
    )
    parser.add_argument(
        "--restate",
        type=_on_off,
        default=None,
        help="on|off: the question said again after results (ablation)",
    )
    parser.add_argument(
        "--quote",
        choices=["direct", "lead", "off"],
        default=None,
        help="answers that reuse a tool's list (agent.quoting; ablation); default: the config's",
    )
    parser.add_argument(
        "--writes", action="store_true", help="also run the write requests (fresh board each)"
    )
    parser.add_argument("--max-steps", type=int, default=6, help="model turns per question")
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="tokens per model turn; default: the model's"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads per model; default: the model's (idle cores)"
    )
    parser.add_argument("--config", type=Path, help="homelab-agent config (models, router, agent settings)")
    parser.add_argument(
        "--prefix-cache",
        default=None,
        help="DIR for saved prompt-prefix KV states, or off; default: the config's [prefix_cache]",
    )
    parser.add_argument(
        "--speculative",
        choices=["prompt_lookup", "off"],
        default=None,
        help="speculative decoding of local models; default: the model's setting",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])


def _report(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kanboard_qa report")
    parser.add_argument("results", nargs="+", type=Path, help="result JSON files written by runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--name", default="report", help="file name of the combined report, without suffix")
    args = parser.parse_args(argv)
    md, png = write_report([load(p) for p in args.results], args.out, args.name)
    print(md.read_text())
    print(f"wrote {md} and {png}", file=sys.stderr)
    return 0


def _rescore(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kanboard_qa rescore")
    parser.add_argument("results", nargs="+", type=Path, help="result JSON files to score again, in place")
    args = parser.parse_args(argv)
    for path in args.results:
        results = load(path)
        anyio.run(rescore, results)
        path.write_text(results.model_dump_json(indent=1))
        s = summarise(results)
        print(f"{results.label}: accuracy {s.accuracy:.0%} over {s.n}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["report"], ["rescore"]):
        configure_logging("warning")
    if argv[:1] == ["report"]:
        return _report(argv[1:])
    if argv[:1] == ["rescore"]:
        return _rescore(argv[1:])
    if argv[:1] == ["compare"]:
        return _compare(argv[1:])
    if argv[:1] == ["ablate"]:
        return _ablate(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kanboard_qa",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", help="model name from --config, or a .gguf path")
    parser.add_argument("--router", help="SMALL,LARGE: route between two models (names or .gguf paths)")
    parser.add_argument("--router-mode", default="auto", choices=["auto", "always_small", "always_large"])
    _common_options(parser)
    parser.add_argument("--label", help="name of this configuration in reports")
    args = parser.parse_args(argv)
    if not args.model and not args.router:
        parser.error("give --model or --router")
    if not args.model:
        args.model = args.router
    configure_logging(args.log_level)
    return _run(args)


if __name__ == "__main__":
    raise SystemExit(main())
