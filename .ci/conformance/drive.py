"""Runs AWS's conformance runner against `durable serve`.

The runner is the PyPI package `aws-durable-execution-conformance-tests` (pinned in
requirements.txt), used unmodified as a library: its `validate_description` invokes each
requirement's function through the Lambda Invoke API, polls the history, answers callbacks and
matches the history, the result and the logs exactly as it does against AWS. Only what AWS would
provide around it is stood in for here:

- CloudFormation: the physical name of a function is its logical name (`conformance-<id>`), the
  name `durable serve` hosts it under.
- CloudWatch Logs: the functions' standard output, which `durable serve` writes to one file per
  function (`<log dir>/<function>.log`, one line per record), filtered by execution ARN as the
  runner's filter pattern asks.

Requirements come from the repository's vendored copy (`tests/conformance/requirements`). The
last line printed is `conformance-runner: N passed, M failed`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

from aws_durable_execution_conformance_tests import validate
from aws_durable_execution_conformance_tests.clients import AwsClients
from aws_durable_execution_conformance_tests.sam import Invoker


class LocalInvoker(Invoker):
    """Invokes functions by the names `durable serve` hosts them under."""

    def _resolve_function(self, logical_id: str) -> str:
        return logical_id


class StackStandIn:
    """The one CloudFormation call the log check makes."""

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict:  # noqa: N803
        return {"StackResourceDetail": {"PhysicalResourceId": LogicalResourceId}}


class LogsStandIn:
    """`FilterLogEvents` over the per-function log files of `durable serve`."""

    _ARN = re.compile(r'\$\.durableExecutionArn = "((?:[^"\\]|\\.)*)"')

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir

    def filter_log_events(self, logGroupName: str, startTime: int, endTime: int,  # noqa: N803
                          filterPattern: str | None = None, nextToken: str | None = None) -> dict:
        function = logGroupName.removeprefix("/aws/lambda/")
        path = self._log_dir / f"{function}.log"
        arn = None
        if filterPattern:
            match = self._ARN.search(filterPattern)
            if match:
                arn = match.group(1).replace('\\"', '"').replace("\\\\", "\\")
        events = []
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                if arn is not None:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(record, dict):
                        continue
                    if arn not in (record.get("durableExecutionArn"), record.get("executionArn")):
                        continue
                events.append({"message": line, "timestamp": startTime, "logStreamName": function})
        return {"events": events}




def requirement_files(root: Path, only: set[str] | None) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(root.glob("*/*.yaml")):
        requirement = path.stem
        if only and requirement not in only:
            continue
        out.append((requirement, path))

    def key(item: tuple[str, Path]) -> tuple[int, ...]:
        return tuple(int(part) if part.isdigit() else 0 for part in item[0].split("-"))

    return sorted(out, key=key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, required=True)
    parser.add_argument("--logs", type=Path, required=True, help="the log directory of durable serve")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--only", nargs="*", help="requirement ids to run (default: all)")
    parser.add_argument("--report", type=Path, help="write a JSON report here")
    args = parser.parse_args()

    # The endpoint and credentials come from the environment (`eval "$(durable env)"`).
    lambda_client = boto3.Session(region_name=args.region).client(
        "lambda", config=Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=960))
    clients = AwsClients({"lambda": lambda_client, "cloudformation": StackStandIn(),
                          "logs": LogsStandIn(args.logs)})
    invoker = LocalInvoker(stack_name="durable-serve", region=args.region, lambda_client=lambda_client,
                           cfn_client=clients["cloudformation"])
    requirements = requirement_files(args.requirements, set(args.only) if args.only else None)
    if not requirements:
        print("no requirement files found", file=sys.stderr)
        return 2

    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="durable-conformance-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = {
            pool.submit(validate.validate_description, f"conformance-{rid}", rid, str(path), invoker, tmp,
                        args.region, clients, tmp): rid
            for rid, path in requirements
        }
        for future in concurrent.futures.as_completed(futures):
            rid = futures[future]
            try:
                result = future.result()
                passed, errors = result.passed, list(result.errors)
            except Exception as error:  # a crash of one case is that case's failure
                passed, errors = False, [f"the runner raised {type(error).__name__}: {error}"]
            results.append((rid, passed, errors))
            print(f"{'PASS' if passed else 'FAIL'} {rid}" + ("" if passed else f": {'; '.join(errors)[:2000]}"),
                  flush=True)

    results.sort(key=lambda r: tuple(int(p) if p.isdigit() else 0 for p in r[0].split("-")))
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    if args.report:
        args.report.write_text(json.dumps(
            [{"id": rid, "passed": ok, "errors": errors} for rid, ok, errors in results], indent=2))
    print(f"took {time.monotonic() - started:.0f} s")
    print(f"conformance-runner: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
