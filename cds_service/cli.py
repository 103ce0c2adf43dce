"""``cds-service``: run the service, or evaluate a FHIR Bundle from the terminal.

  cds-service serve [--host H --port P ...]
  cds-service evaluate BUNDLE.json [--hook patient-view|order-select|order-sign] [--json] [--today YYYY-MM-DD]
  cds-service check-data BUNDLE.json [--json] [--today YYYY-MM-DD]

Exit codes: 0 ok, 2 usage, 3 unreadable file or not JSON, 4 JSON but not a FHIR Bundle or resource.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_USAGE, EXIT_UNREADABLE, EXIT_NOT_FHIR = 0, 2, 3, 4
HOOKS = ("patient-view", "order-select", "order-sign")
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


class CliError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _serve(args: argparse.Namespace) -> int:
    workers = args.workers
    if args.insecure_demo:
        os.environ["CDS_AUTH"] = "off"
        os.environ["CDS_ALLOW_INSECURE"] = "1"
        os.environ.setdefault("DEMO_DATA", "1")
        # One worker: the explanation links point into an in-process cache (use REDIS_URL to scale out).
        workers = workers or 1
    workers = workers or 2
    from gunicorn.app.wsgiapp import run as gunicorn_run

    sys.argv = [
        "gunicorn",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "30",
        "--access-logfile",
        "-" if args.access_log else "/dev/null",
        "cds_service.wsgi:app",
    ]
    gunicorn_run()
    return 0


# ---------------------------------------------------------------- reading the input


def load_bundle(path: str) -> dict[str, Any]:
    """The file as a FHIR Bundle (a single resource is wrapped in one). Raises CliError 3 or 4."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(EXIT_UNREADABLE, f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(EXIT_UNREADABLE, f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise CliError(EXIT_UNREADABLE, f"{path}: not UTF-8 text (FHIR JSON is UTF-8)") from None
    except OSError as exc:
        raise CliError(EXIT_UNREADABLE, f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise CliError(EXIT_UNREADABLE, f"{path}: not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise CliError(EXIT_NOT_FHIR, f"{path}: JSON {type(data).__name__}, not a FHIR resource (an object)")
    rtype = data.get("resourceType")
    if not isinstance(rtype, str) or not _RESOURCE_TYPE.match(rtype):
        hint = ""
        if "hook" in data and "context" in data:
            hint = " This looks like a CDS Hooks request: pass its patient data as a FHIR Bundle instead."
        raise CliError(EXIT_NOT_FHIR, f"{path}: JSON without a FHIR resourceType: not a FHIR Bundle or resource.{hint}")
    if rtype == "Bundle":
        entries = data.get("entry", [])
        if not isinstance(entries, list):
            raise CliError(EXIT_NOT_FHIR, f"{path}: Bundle.entry is not a list")
        return data
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": data}]}


def _patient_id(bundle: dict[str, Any]) -> str | None:
    resources = [e.get("resource") for e in bundle.get("entry", []) if isinstance(e, dict)]
    resources = [r for r in resources if isinstance(r, dict)]
    for r in resources:
        if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str):
            return r["id"]
    for r in resources:
        subject = r.get("subject") or r.get("patient")
        ref = subject.get("reference") if isinstance(subject, dict) else None
        if isinstance(ref, str) and ref.startswith("Patient/"):
            return ref.split("/", 1)[1]
    return None


def _context(bundle: dict[str, Any], hook: str) -> dict[str, Any]:
    """The hook context an EHR would send: for order hooks the Bundle's draft orders."""
    context: dict[str, Any] = {"userId": "Practitioner/cli", "patientId": _patient_id(bundle) or "unknown"}
    if hook in ("order-select", "order-sign"):
        drafts = [
            e["resource"]
            for e in bundle.get("entry", [])
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") in ("ServiceRequest", "MedicationRequest")
            and e["resource"].get("status") == "draft"
        ]
        entries = [{"resource": d} for d in drafts]
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        if hook == "order-select":
            context["selections"] = [f"{d['resourceType']}/{d.get('id')}" for d in drafts]
    return context


def _today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# ---------------------------------------------------------------- evaluate


def _evaluate(args: argparse.Namespace) -> int:
    from cds_service.explain.summary import SCOPE_TEXT
    from cds_service.guideline.knowledge import knowledge
    from cds_service.hooks.response import hook_response
    from cds_service.pipeline import evaluate_bundle
    from cds_service.rendering.cards import CardContext, level_words, render_cards

    bundle = load_bundle(args.bundle)
    context = _context(bundle, args.hook)
    facts, evaluation = evaluate_bundle(bundle, args.hook, today=args.today, context=context)
    card_context = CardContext(
        hook_instance=str(uuid.uuid4()),
        service_base=args.base_url.rstrip("/"),
        patient_id=context["patientId"],
    )
    cards = render_cards(evaluation, card_context)
    if args.json:
        print(json.dumps(hook_response(cards), indent=2, ensure_ascii=False))
        return EXIT_OK
    out = [f"NANETS 2023 G3 NEN guidance: {args.hook}, evaluated as of {facts.today.isoformat()}"]
    if args.hook != "patient-view":
        drafts = context["draftOrders"]["entry"]
        out.append(f"Draft orders checked: {len(drafts)} (ServiceRequest/MedicationRequest with status draft)")
    out.append(SCOPE_TEXT[evaluation.scope])
    out.append(f"{len(cards)} card(s)" + (":" if cards else "."))
    recs = knowledge()
    for i, card in enumerate(cards, 1):
        topic = card.get("source", {}).get("topic", {}).get("code", "")
        out.append("")
        out.append(f"{i}. [{card['indicator'].upper()}] {card['summary']}")
        rec = recs.get(topic)
        if rec is not None:
            out.append(f"   Level: {level_words(rec.level)}")
            out.append(f"   Section: {rec.section}")
            out.append(f"   Recommendation: {rec.id}")
        elif topic:
            out.append(f"   Topic: {topic}")
        for suggestion in card.get("suggestions", []):
            out.append(f"   Suggestion: {suggestion['label']}")
            for action in suggestion.get("actions", []):
                out.append(f"     - {action['type']}: {action.get('description', '')}")
        if args.detail or rec is None:
            out.append("   " + card.get("detail", "").replace("\n", "\n   ").rstrip())
    print("\n".join(out))
    return EXIT_OK


# ---------------------------------------------------------------- check-data


def _check_data(args: argparse.Namespace) -> int:
    from cds_service.explain.summary import fact_rows, gaps, record_summary
    from cds_service.fhir_data.record import PatientRecord
    from cds_service.pipeline import evaluate_record

    bundle = load_bundle(args.bundle)
    record = PatientRecord(patient_id=_patient_id(bundle))
    record.add(bundle)
    facts, evaluation = evaluate_record(record, "patient-view", today=args.today)
    rows = fact_rows(facts)
    inventory = record_summary(record, facts)
    cited = {ref for row in rows for ref in row["sources"]} | {i["reference"] for i in inventory["ignored"]}
    unused = [ref for refs in inventory["references"].values() for ref in refs if ref not in cited]
    data_gaps = gaps(evaluation)
    if args.json:
        report = {"facts": rows, "ignored": inventory["ignored"], "notCited": unused, "dataGaps": data_gaps}
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_OK
    types = ", ".join(f"{n} {t}" for t, n in inventory["types"].items()) or "none"
    out = [f"{args.bundle}: {inventory['total']} resource(s) read ({types})", ""]
    out.append(f"Facts recognised ({len(rows)}):")
    width = max((len(r["label"]) for r in rows), default=0)
    for r in rows:
        source = ", ".join(r["sources"]) or "no source cited"
        out.append(f"  {r['label']:<{width}}  {r['value']}  [{source}]")
    if not rows:
        out.append("  none: no fact the guideline uses was recognised")
    out += ["", f"Resources ignored ({len(inventory['ignored'])}):"]
    out += [f"  {i['reference']}: {i['reason']}" for i in inventory["ignored"]] or ["  none"]
    out += ["", f"Resources read but not cited by any fact ({len(unused)}):"]
    out += [f"  {ref}" for ref in unused] or ["  none"]
    out += ["", f"Data gaps ({len(data_gaps)}):"]
    out += [f"  {g['description']}: {g['supply']}" for g in data_gaps] or ["  none"]
    print("\n".join(out))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the CDS Hooks service under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=None, help="default 2 (1 with --insecure-demo)")
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--access-log", action="store_true")
    serve.add_argument(
        "--insecure-demo",
        action="store_true",
        help="local demo: JWT checks off (logged as a warning), demo patients served",
    )
    serve.set_defaults(func=_serve)

    evaluate = sub.add_parser(
        "evaluate",
        help="evaluate a FHIR Bundle and print the cards",
        description="Evaluate a patient's FHIR Bundle (JSON) and print the cards the service would return. "
        "For order hooks the draft orders are the Bundle's ServiceRequest/MedicationRequest with status draft.",
    )
    evaluate.add_argument("bundle", metavar="BUNDLE.json", help="a FHIR R4 Bundle (or one resource) in JSON")
    evaluate.add_argument("--hook", choices=HOOKS, default="patient-view")
    evaluate.add_argument("--json", action="store_true", help="print the CDS Hooks response JSON")
    evaluate.add_argument("--detail", action="store_true", help="also print each card's Markdown detail")
    evaluate.add_argument("--today", type=_today, default=None, metavar="YYYY-MM-DD", help="evaluate as of this date")
    evaluate.add_argument(
        "--base-url",
        default=os.environ.get("CDS_PUBLIC_BASE_URL") or "http://127.0.0.1:8080",
        help="service base URL for canonical links in suggestions (default: $CDS_PUBLIC_BASE_URL or %(default)s)",
    )
    evaluate.set_defaults(func=_evaluate)

    check = sub.add_parser(
        "check-data",
        help="list the facts recognised in a FHIR Bundle and the resources ignored",
        description="List every guideline fact recognised in a FHIR Bundle (with its source resource), every "
        "resource ignored (with the reason), resources no fact cites, and the data gaps.",
    )
    check.add_argument("bundle", metavar="BUNDLE.json")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--today", type=_today, default=None, metavar="YYYY-MM-DD")
    check.set_defaults(func=_check_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 (argparse)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"cds-service {args.command}: {exc.message}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    raise SystemExit(main())
