"""Where the project's worker spends its time, from the py-spy stacks `bench/lifecycle.py
--profile DIR` records (`python -m bench.profile_summary DIR/burst-0.txt`): the share of the
GIL-held samples in each cost the benchmark docs name (docs/benchmarks.md), and the functions
with the most samples of their own."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# A sample counts toward the first bucket one of whose markers is in its stack.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sandbox: a new run's sandbox (module imports, @workflow.defn)",
     ("SandboxedWorkflowRunner.create_instance",)),
    ("sandbox: entering and leaving it on each activation (builtins, proxies)",
     ("Importer.applied", "_ThreadLocalOverride", "Importer._builtins_restricted",
      "unwrap_second_param", "_ThreadLocalCallable", "Importer._import")),
    ("payload visitor (activations, completions)", ("_visitor.py", "visit_payloads",
                                                     "_encode_completion", "_decode_activation")),
    ("data converter (pydantic / JSON)", ("temporalio/contrib/pydantic", "pydantic/",
                                         "converter.py")),
    ("logging", ("logging/", "structlog/")),
    ("record store (side effects)", ("activities/store", "sqlite3")),
    ("the project's workflow code", ("(workflows/",)),
    ("the project's rules and models", ("(domain/",)),
    ("SDK workflow instance (activations)", ("_workflow_instance.py",)),
    ("gRPC / bridge (polls, completions)", ("temporalio/bridge", "grpc")),
)


def summarize(path: Path, top: int = 15) -> str:
    """The buckets' shares and the top functions of one collapsed-stacks file."""
    buckets: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        bucket = next((name for name, markers in BUCKETS
                       if any(m in stack for m in markers)), "other")
        buckets[bucket] += count
        own[stack.rsplit(";", 1)[-1]] += count
    lines = [f"{path.name}: {total} samples"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in buckets.most_common()]
    lines.append("  top functions (own samples):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    """Print a summary per file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    for path in parser.parse_args().files:
        print(summarize(path))


if __name__ == "__main__":
    main()
