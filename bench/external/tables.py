"""Writes scikit-learn's bundled tables as CSV and scores k-means on them, for bench:external.

Usage: python tables.py OUT_DIR
For each table: OUT_DIR/<name>.csv (columns f0..fN-1, then label) and one JSON object on stdout
with every table's k, shape and k-means' ACC (20 restarts, lowest inertia) on the raw and on the
standardised columns. The tables ship inside the scikit-learn wheel: nothing is downloaded.
"""

import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import datasets
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

TABLES = {
    "wine": datasets.load_wine,
    "breast-cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


def accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Clustering accuracy: the share of rows on the best one-to-one match of clusters to classes."""
    size = int(max(truth.max(), predicted.max())) + 1
    counts = np.zeros((size, size))
    for t, p in zip(truth, predicted):
        counts[p, t] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(truth))


def kmeans_accuracy(x: np.ndarray, truth: np.ndarray, k: int) -> float:
    return accuracy(truth, KMeans(n_clusters=k, n_init=20, random_state=0).fit_predict(x))


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, load in TABLES.items():
        table = load()
        x, truth = table.data, table.target
        k = len(np.unique(truth))
        header = [f"f{i}" for i in range(x.shape[1])] + ["label"]
        with open(out_dir / f"{name}.csv", "w", encoding="utf-8") as csv:
            csv.write(",".join(header) + "\n")
            for row, label in zip(x, truth):
                csv.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")
        summary[name] = {
            "clusters": k,
            "rows": int(x.shape[0]),
            "features": int(x.shape[1]),
            "kmeansRaw": kmeans_accuracy(x, truth, k),
            "kmeansStandardised": kmeans_accuracy(StandardScaler().fit_transform(x), truth, k),
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
