"""Benchmark of the OCR stage (not a test; prints a table, optionally writes JSON).

For each damage level of the old text layer it generates a SciELO-like chapter (one
born-digital licence page + N scanned pages with known text) and measures:

- seconds per page of the whole stage (``run_ocr_stage``) vs plain
  ``ocrmypdf --force-ocr`` on the same file (same languages and jobs);
- character error rate on the scanned pages of: the old layer, fresh OCR (our hOCR), the
  text the gate kept, and plain ``--force-ocr`` (its sidecar);
- whether the page images in each output are the original ones (not re-encoded).

``--poor-scan`` degrades the page images (downsampled, blurred, low-quality JPEG) so fresh
OCR makes real errors: the situation in which the old layer should be kept.

    .venv/bin/python bench/bench_ocr.py --pages 4 --language pt --seeds 2 [--poor-scan]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pikepdf
from PIL import ImageFilter

from archive_ingest.ocr import cer, run_ocr_stage
from archive_ingest.ocr.hocr import read_hocr
from archive_ingest.ocr.languages import to_tesseract
from archive_ingest.ocr.pages import analyse_pdf
from archive_ingest.settings import Settings

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the sample generator lives in tests/support, not installed

from tests.support.samples import make_sample_chapter  # noqa: E402


def degrade_images(source: Path, target: Path, *, scale: float, blur: float, quality: int) -> None:
    """Rewrite every image as a poorer scan (smaller, blurred, JPEG ``quality``)."""
    with pikepdf.open(source) as pdf:
        done: set[tuple[int, int]] = set()
        for page in pdf.pages:
            for image in page.obj.Resources.get("/XObject", {}).values():
                if image.get("/Subtype") != "/Image" or image.objgen in done:
                    continue
                done.add(image.objgen)
                pil = pikepdf.PdfImage(image).as_pil_image().convert("L")
                width, height = pil.size
                small = pil.resize((int(width * scale), int(height * scale)))
                small = small.filter(ImageFilter.GaussianBlur(blur))
                buffer = io.BytesIO()
                small.save(buffer, format="JPEG", quality=quality)
                image.write(buffer.getvalue(), filter=pikepdf.Name.DCTDecode)
                image.Width, image.Height = small.size
                image.ColorSpace = pikepdf.Name.DeviceGray
                image.BitsPerComponent = 8
                if "/DecodeParms" in image:
                    del image["/DecodeParms"]
        pdf.save(target)


def _images(path: Path) -> list[bytes]:
    out = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for image in page.obj.Resources.get("/XObject", {}).values():
                if image.get("/Subtype") == "/Image":
                    try:
                        out.append(image.read_bytes())
                    except pikepdf.PdfError:
                        out.append(image.read_raw_bytes())
    return sorted(out)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def bench_one(
    workdir: Path, *, damage: str, language: str, pages: int, seed: int, jobs: int, poor: bool
) -> dict[str, Any]:
    made = workdir / "generated.pdf"
    sample = make_sample_chapter(
        made,
        language=language,
        damage=damage,
        scanned_pages=pages,
        seed=seed,  # type: ignore[arg-type]
    )
    chapter = workdir / "chapter.pdf"
    if poor:
        degrade_images(made, chapter, scale=0.4, blur=1.0, quality=30)
    else:
        chapter.write_bytes(made.read_bytes())
    settings = Settings(home=workdir / "home", ocr_jobs=jobs)
    total_pages = pages + 1

    started = time.monotonic()
    result = run_ocr_stage(chapter, workdir / "out", [language], settings)
    stage_seconds = time.monotonic() - started

    plain_pdf, sidecar = workdir / "plain.pdf", workdir / "plain.txt"
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ocrmypdf",
            "--force-ocr",
            "-l",
            to_tesseract(language) or "eng",
            "--jobs",
            str(jobs),
            "--sidecar",
            str(sidecar),
            "-q",
            str(chapter),
            str(plain_pdf),
        ],
        check=True,
    )
    plain_seconds = time.monotonic() - started

    layers = analyse_pdf(chapter)
    kept = (workdir / "out" / result.text_path).read_text(encoding="utf-8").split("\f")
    plain = sidecar.read_text(encoding="utf-8").split("\f")
    rows = []
    for index in sample.scanned_pages:
        truth = sample.true_texts[index]
        report = result.pages[index]
        fresh = read_hocr(workdir / "out" / report.hocr).text if report.hocr else ""
        rows.append(
            {
                "page": index + 1,
                "decision": report.decision,
                "cer_old": cer(truth, layers[index].old_text),
                "cer_fresh": cer(truth, fresh),
                "cer_kept": cer(truth, kept[index]),
                "cer_force_ocr": cer(truth, plain[index] if index < len(plain) else ""),
            }
        )
    original_images = _images(chapter)
    return {
        "damage": damage,
        "language": language,
        "seed": seed,
        "poor_scan": poor,
        "pages": total_pages,
        "stage_s_per_page": stage_seconds / total_pages,
        "force_ocr_s_per_page": plain_seconds / total_pages,
        "stage_timings": result.timings,
        "access_format": result.access_format,
        "images_kept_stage": _images(workdir / "out" / result.access_path) == original_images,
        "images_kept_force_ocr": _images(plain_pdf) == original_images,
        "decisions": result.decisions(),
        "cer": {k: _mean([r[k] for r in rows]) for k in rows[0] if k.startswith("cer_")},
        "per_page": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4, help="scanned pages per chapter")
    parser.add_argument("--language", default="pt", choices=["en", "pt", "es"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--poor-scan", action="store_true", help="degrade the page images")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    results = []
    for damage in ("light", "heavy"):
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
                results.append(
                    bench_one(
                        Path(tmp),
                        damage=damage,
                        language=args.language,
                        pages=args.pages,
                        seed=seed,
                        jobs=args.jobs,
                        poor=args.poor_scan,
                    )
                )
    header = (
        f"{'damage':7} {'seed':>4} {'stage s/p':>9} {'force s/p':>9} "
        f"{'CER old':>8} {'fresh':>7} {'kept':>7} {'force':>7}  decisions / images kept"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        c = r["cer"]
        print(
            f"{r['damage']:7} {r['seed']:>4} {r['stage_s_per_page']:>9.2f} "
            f"{r['force_ocr_s_per_page']:>9.2f} {c['cer_old'] * 100:>7.2f}% "
            f"{c['cer_fresh'] * 100:>6.2f}% {c['cer_kept'] * 100:>6.2f}% "
            f"{c['cer_force_ocr'] * 100:>6.2f}%  {r['decisions']} "
            f"stage={r['images_kept_stage']} force-ocr={r['images_kept_force_ocr']}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
