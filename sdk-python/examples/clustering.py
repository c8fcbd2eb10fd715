"""Clustering wines: three scikit-learn jobs with live progress, logs, cancel and results.

    phloem run sdk-python/examples/clustering.py

The data is scikit-learn's bundled wine data set (178 wines, 13 chemical measurements; no
network). Each job reports progress as it goes, keeps going when the page reloads or a second
tab opens, and its result survives a server restart:

- KMeans over a range of k, with the silhouette score of each (progress per k);
- forward feature selection for predicting the cultivar (progress per feature tried);
- a Mapper-style topological summary: overlapping intervals of a lens (the first principal
  component), clustered within each interval; clusters that share wines are linked.

Results are shown as text tables (and the Mapper graph as a network chart once charts exist).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import phloem as ph
from sklearn.cluster import DBSCAN, KMeans
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

app = ph.App("Wine clustering")

WINE = load_wine()
X = StandardScaler().fit_transform(WINE.data)
FEATURES = [str(name) for name in WINE.feature_names]


# --- the jobs: plain functions, run in worker processes --------------------------------------


def fit_k(k: int) -> tuple[float, float]:
    """One KMeans fit: its silhouette score and inertia."""
    model = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
    return float(silhouette_score(X, model.labels_)), float(model.inertia_)


@app.job(supersede=True)
def kmeans_sweep(params: dict[str, Any], progress: Any) -> list[dict[str, float]]:
    ks = list(range(2, int(params.get("k_max", 10)) + 1))
    rows = []
    for i, k in enumerate(ks):
        progress(i / len(ks), stage=f"k = {k}")
        silhouette, inertia = fit_k(k)
        progress.log(f"k={k} silhouette={silhouette:.3f} inertia={inertia:.1f}")
        rows.append({"k": k, "silhouette": silhouette, "inertia": inertia})
    return rows


def cv_score(columns: list[int]) -> float:
    """Cross-validated accuracy of predicting the cultivar from these columns."""
    model = KNeighborsClassifier(n_neighbors=5)
    return float(cross_val_score(model, X[:, columns], WINE.target, cv=5).mean())


@app.job(supersede=True)
def select_features(params: dict[str, Any], progress: Any) -> list[dict[str, Any]]:
    """Greedy forward selection: add the feature that helps most, until ``count`` are in."""
    count = int(params.get("count", 5))
    chosen: list[int] = []
    steps = []
    total = sum(len(FEATURES) - s for s in range(count))
    done = 0
    for step in range(count):
        best, best_score = -1, -1.0
        for feature in range(len(FEATURES)):
            if feature in chosen:
                continue
            progress(done=done, total=total, stage=f"feature {step + 1} of {count}")
            score = cv_score([*chosen, feature])
            done += 1
            if score > best_score:
                best, best_score = feature, score
        chosen.append(best)
        progress.log(f"+ {FEATURES[best]}: accuracy {best_score:.3f}")
        steps.append({"feature": FEATURES[best], "accuracy": best_score})
    return steps


def cover(lens: np.ndarray, intervals: int, overlap: float) -> list[tuple[float, float]]:
    """Overlapping intervals covering the lens's range (each widened by ``overlap``)."""
    low, high = float(lens.min()), float(lens.max())
    width = (high - low) / intervals
    pad = width * overlap
    return [(low + i * width - pad, low + (i + 1) * width + pad) for i in range(intervals)]


@app.job(supersede=True)
def mapper(params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Mapper: cluster the wines within each interval of the lens; link clusters that share
    wines. The graph's nodes and edges."""
    lens = PCA(n_components=1).fit_transform(X)[:, 0]
    spans = cover(lens, int(params.get("intervals", 8)), float(params.get("overlap", 0.3)))
    nodes: list[dict[str, Any]] = []
    members: list[set[int]] = []
    for i, (low, high) in enumerate(spans):
        progress(i / len(spans), stage=f"interval {i + 1} of {len(spans)}")
        inside = np.flatnonzero((lens >= low) & (lens <= high))
        if len(inside) < 3:
            continue
        labels = DBSCAN(eps=float(params.get("eps", 2.5)), min_samples=3).fit(X[inside]).labels_
        for label in sorted(set(labels) - {-1}):
            wines = set(inside[labels == label].tolist())
            cultivars = np.bincount(WINE.target[list(wines)], minlength=3)
            nodes.append(
                {
                    "node": f"n{len(nodes)}",
                    "interval": f"{low:.2f} .. {high:.2f}",
                    "size": len(wines),
                    "cultivar": int(cultivars.argmax()),
                }
            )
            members.append(wines)
        found = len(set(labels) - {-1})
        progress.log(f"interval {i + 1}: {len(inside)} wines, {found} cluster(s)")
    edges = [
        {"from": nodes[a]["node"], "to": nodes[b]["node"], "shared": len(members[a] & members[b])}
        for a in range(len(nodes))
        for b in range(a + 1, len(nodes))
        if members[a] & members[b]
    ]
    return {"nodes": nodes, "edges": edges}


# --- the page ----------------------------------------------------------------------------------


def table(rows: list[list[str]], id: str) -> ph.Element:
    """A plain text table with aligned columns (a Table component will replace it)."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return ph.Text("\n".join(line.rstrip() for line in lines), id=id, variant="code")


def sweep_table(rows: list[dict[str, float]]) -> ph.Element:
    best = max(rows, key=lambda r: r["silhouette"])["k"]
    body = [
        [
            str(r["k"]),
            f"{r['silhouette']:.3f}",
            f"{r['inertia']:.1f}",
            "best" if r["k"] == best else "",
        ]
        for r in rows
    ]
    return table([["k", "silhouette", "inertia", ""], *body], "kmeans-result")


def features_table(steps: list[dict[str, Any]]) -> ph.Element:
    body = [[str(i + 1), s["feature"], f"{s['accuracy']:.3f}"] for i, s in enumerate(steps)]
    return table([["#", "feature added", "accuracy"], *body], "features-result")


def mapper_table(graph: dict[str, Any]) -> ph.Element:
    body = [[n["node"], n["interval"], str(n["size"]), str(n["cultivar"])] for n in graph["nodes"]]
    return ph.Column(
        table([["node", "lens interval", "wines", "main cultivar"], *body], "mapper-result"),
        ph.Text(f"{len(graph['nodes'])} clusters, {len(graph['edges'])} links", id="mapper-links"),
        id="mapper-summary",
    )


def section(
    ui: ph.UI, job: Any, title: str, key: str, params: dict[str, Any], show: Any
) -> ph.Element:
    run = job.latest(ui)
    parts: list[ph.Element] = [
        ph.Text(title, variant="heading", id=f"{key}-title"),
        ph.Button(
            f"Run {title}", id=f"run-{key}", on_click=lambda e: job.start(ui, params)
        ),
    ]
    if run is not None:
        parts.append(ph.JobProgress(run, label=title, log=4, id=f"{key}-job"))
        if run.state == "succeeded":
            parts.append(show(run.result))
        elif run.state == "failed" and run.error is not None:
            parts.append(ph.Text(run.error.message, id=f"{key}-error"))
    return ph.Column(*parts, id=key)


@app.page("/")
def home(ui: ph.UI) -> ph.Element:
    return ph.Column(
        ph.Text("Wine clustering", variant="heading", id="title"),
        ph.Text(
            f"{len(X)} wines, {len(FEATURES)} measurements (scikit-learn's wine data set)",
            variant="caption",
            id="about",
        ),
        section(ui, kmeans_sweep, "KMeans sweep", "kmeans", {"k_max": 10}, sweep_table),
        section(ui, select_features, "Feature selection", "features", {"count": 5}, features_table),
        section(ui, mapper, "Mapper summary", "mapper", {"intervals": 8}, mapper_table),
        id="root",
    )
