"""`harness models [PATTERN ...]`: which adapters are registered, which run here, and how to enable the rest.

The list is one line per model so that it reads at 80 columns and in a CI log; skipped models
are grouped by family and reason, with the enabling option printed once per group.
`harness models NAME` prints everything about one model. `harness models --check-boxes MODEL` runs
the box-convention self-check of a text-answering model (`harness/cli/check_boxes.py`, which lists
its exit codes).
"""

from __future__ import annotations

import argparse
import textwrap
from dataclasses import dataclass

from harness.cli.check_boxes import add_check_boxes_args, cmd_check_boxes
from harness.cli.consoles_and_defaults import HelpFormatter, add_adapter_option_args, console
from harness.errors import HarnessError

EXAMPLES = """examples:
  harness models                      every registered adapter, one line each
  harness models 'gdino-*' difftracker*
  harness models difftracker          one model in detail: options, status, how to enable
  harness models --opt cd-rerank-clip.weights=clip.safetensors
  harness models owlv2-b --opt owlv2-b.weights=google/owlv2-base-patch16-ensemble --allow-download
  harness models --check-boxes vlm-api --opt vlm-api.base_url=http://127.0.0.1:8000/v1 --opt vlm-api.model=M
                                      are a text model's boxes read in the right frame? (exit 0 right,
                                      3 wrong, 4 no readable boxes, 1 cannot run here)
"""


@dataclass
class ModelStatus:
    name: str
    family: str
    runs_here: bool
    uses_query: bool
    uses_image_a: bool
    description: str
    reason: str = ""
    how_to_enable: str = ""
    note: str = ""  # what to know about a model that runs here (e.g. weights fetched at load)


def model_status(name: str, options: dict, allow_download: bool = False) -> ModelStatus:
    """Whether `name` runs here with `options`, by its cheap `check()` (which never downloads; with
    `allow_download`, hub weights missing from the cache count as available, with a note)."""
    from idg_adapters.base import AdapterUnavailable
    from idg_adapters.registry import family_of, get_adapter_class

    cls = get_adapter_class(name)
    status = ModelStatus(name, family_of(name), True, cls.uses_query, cls.uses_image_a, cls.description)
    try:
        adapter = cls(**options.get(name, {}))
        adapter.allow_download = allow_download
        adapter.check()
        status.note = adapter.check_note() or ""
    except AdapterUnavailable as exc:
        status.runs_here, status.reason, status.how_to_enable = False, exc.reason, exc.how_to_enable
    except Exception as exc:  # a plugin's bug is shown, not raised
        status.runs_here, status.reason = False, f"{type(exc).__name__}: {exc}"
    return status


def _fit(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _wrapped(text: str, width: int, indent: str) -> list[str]:
    """`text` broken at spaces into lines of at most `width` (a long path or option stays whole)."""
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def _first_sentence(text: str) -> str:
    head = text.split("; ")[0].split(". ")[0]
    return head.rstrip(".")


def render_list(statuses: list[ModelStatus], width: int) -> list[str]:
    """One line per model, then the skipped ones grouped by family and reason."""
    width = max(width, 60)
    name_w = min(max((len(s.name) for s in statuses), default=5), 28)
    lines = [f"{'MODEL':<{name_w}}  HERE  QUERY  A    NOTE"]
    for s in statuses:
        note = (s.note or _first_sentence(s.description)) if s.runs_here else "skipped: " + _first_sentence(s.reason)
        head = (
            f"{_fit(s.name, name_w):<{name_w}}  {'yes' if s.runs_here else 'no':<4}  "
            f"{'yes' if s.uses_query else 'no':<5}  {'yes' if s.uses_image_a else 'no':<3}  "
        )
        lines.append(head + _fit(note, width - len(head)))
    skipped = [s for s in statuses if not s.runs_here]
    groups: dict[tuple[str, str], list[ModelStatus]] = {}
    for s in skipped:
        groups.setdefault((s.family, s.reason), []).append(s)
    if groups:
        lines += ["", f"Skipped here ({len(skipped)} of {len(statuses)}), by family and reason:"]
    for (family, reason), members in groups.items():
        names = ", ".join(m.name for m in members)
        lines += _wrapped(f"- {family} ({len(members)}): {names}", width, "    ")
        lines += _wrapped(f"    why: {reason}", width, "         ")
        if members[0].how_to_enable:
            example = " (likewise for the others)" if len(members) > 1 else ""
            lines += _wrapped(f"    enable: {members[0].how_to_enable}{example}", width, "            ")
    ready = len(statuses) - len(skipped)
    lines += ["", f"{ready} of {len(statuses)} run here. `harness models NAME` shows one model in detail."]
    return lines


def render_detail(status: ModelStatus, options: dict) -> list[str]:
    from idg_adapters.registry import adapter_origin, get_adapter_class

    cls = get_adapter_class(status.name)
    lines = [
        f"{status.name}",
        f"  what:        {status.description}",
        f"  family:      {status.family}",
        f"  defined in:  {adapter_origin(status.name)}",
        f"  uses query:  {'yes' if status.uses_query else 'no'}",
        f"  uses A:      {'yes' if status.uses_image_a else 'no'}",
        f"  runs here:   {'yes' if status.runs_here else 'no'}",
    ]
    if status.note:
        lines.append(f"  note:        {status.note}")
    if not status.runs_here:
        lines.append(f"  why not:     {status.reason}")
        if status.how_to_enable:
            lines.append(f"  to enable:   {status.how_to_enable}")
    defaults = cls.default_options()
    given = options.get(status.name, {})
    lines.append("  options:" + ("" if defaults else "     none"))
    for key in sorted(defaults):
        value = given.get(key, defaults[key])
        mark = "  (given)" if key in given else ""
        lines.append(f"    {status.name}.{key} = {value!r}{mark}")
    return lines


def cmd_models(args: argparse.Namespace) -> int:
    from harness.run.adapter_options import load_adapter_options
    from idg_adapters.registry import UnknownAdapterError, available_names, plugin_failures, select_names

    options = load_adapter_options(args.model_config, args.opt)
    stray = sorted(set(options) - set(available_names()))
    if stray:
        raise HarnessError(f"--opt/--model-config: no registered model named {', '.join(stray)}; see `harness models`")
    if args.check_boxes:
        if args.patterns:
            raise HarnessError("--check-boxes checks one model: leave out the PATTERN arguments")
        return cmd_check_boxes(args.check_boxes, options, args.device, args.allow_download)
    try:
        names = select_names(args.patterns) if args.patterns else available_names()
    except UnknownAdapterError as exc:
        raise HarnessError(str(exc)) from None
    statuses = [model_status(name, options, args.allow_download) for name in names]
    if len(args.patterns) == 1 and args.patterns[0] in names and len(names) == 1:
        lines = render_detail(statuses[0], options)
    else:
        lines = render_list(statuses, console.width)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for failure in plugin_failures():
        console.print(f"plugin failed to load: {failure.entry_point}: {failure.error}", markup=False, highlight=False)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser(
        "models",
        help="list registered adapters and whether each can run here",
        description="List the registered adapters (built in and plugins), whether each can run on this machine, "
        "and the option that enables those that cannot. Patterns select models by name, glob or family.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    models.set_defaults(func=cmd_models)
    models.add_argument("patterns", nargs="*", metavar="PATTERN", help="model names, globs ('gdino-*') or families")
    options = models.add_argument_group("adapter options")
    add_adapter_option_args(options)
    options.add_argument(
        "--allow-download",
        action="store_true",
        help="check as `harness run --allow-download` would load: a weights option may name a Hugging Face "
        "hub model (org/name[@revision]). Listing downloads nothing (a model not yet cached says it will be "
        "fetched at load); --check-boxes loads the model, so it may fetch it",
    )
    add_check_boxes_args(models)
