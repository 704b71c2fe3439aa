"""Generate synthetic sources with the shape of the shipped graph, at any size.

    python bench/generate.py --triples 100000 --out /tmp/hr100k

writes OUT/ontology and OUT/shapes (copies of the real ones) and OUT/data/*.ttl: cities, documents
and pages, a practice scheme of 40 concepts with broader links, organizations in cities, 1-5
programs each using 1-4 practices, 0-3 lessons per program, milestones and figures, every resource
labelled in English and French and cited to a page, so that the whole conforms to the shapes.
Deterministic for a given --triples and --seed.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIPLES_PER_ORGANIZATION = 96  # measured average; used only to size the output

HEADER = """@prefix hr: <https://w3id.org/hrgraph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix schema: <https://schema.org/> .
@prefix id: <https://w3id.org/hrgraph/id/> .

"""


def labels(en: str, fr: str) -> str:
    return f'    rdfs:label "{en}"@en , "{fr}"@fr'


def generate(organizations: int, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    cities = max(1, organizations // 20)
    pages = max(10, organizations // 10)
    files: dict[str, list[str]] = {
        k: []
        for k in (
            "places",
            "documents",
            "practices",
            "organizations",
            "programs",
            "lessons",
            "milestones",
        )
    }
    files["places"].append(f"""id:province\\/synthetic a hr:Province ;
{labels("Synthetic province", "Province synthétique")} ;
    hr:sgcCode "99" ;
    schema:alternateName "SY" .
""")
    for c in range(cities):
        code = f"{9900000 + c:07d}"
        files["places"].append(f"""id:city\\/city-{c} a hr:City ;
{labels(f"City {c}", f"Ville {c}")} ;
    hr:province id:province\\/synthetic ;
    hr:sgcCode "{code}" ;
    hr:ocdId "ocd-division/country:ca/csd:{code}" ;
    geo:lat "{rng.uniform(42, 70):.5f}"^^xsd:decimal ;
    geo:long "{rng.uniform(-140, -53):.5f}"^^xsd:decimal ;
    dct:source id:document\\/report .
""")
    files["documents"].append(f"""id:document\\/report a hr:Document ;
{labels("Synthetic report", "Rapport synthétique")} ;
    dct:title "Synthetic report"@en ;
    schema:url <https://example.org/report> .
""")
    for p in range(1, pages + 1):
        files["documents"].append(f"""id:page\\/report-{p} a hr:DocumentPage ;
{labels(f"Synthetic report, page {p}", f"Rapport synthétique, page {p}")} ;
    hr:pageOf id:document\\/report ;
    hr:viewerPage "{p}"^^xsd:positiveInteger .
""")
    files["practices"].append("""id:scheme\\/synthetic a skos:ConceptScheme ;
    skos:prefLabel "Synthetic practices"@en , "Pratiques synthétiques"@fr ;
    dct:source id:document\\/report .
""")
    for k in range(40):
        broader = (
            f" ;\n    skos:broader id:practice\\/practice-{k // 8}"
            if k >= 8
            else (" ;\n    skos:topConceptOf id:scheme\\/synthetic")
        )
        files["practices"].append(f"""id:practice\\/practice-{k} a hr:Practice ;
    skos:prefLabel "Practice {k}"@en , "Pratique {k}"@fr ;
    skos:definition "A synthetic practice number {k}."@en ,
        "Une pratique synthétique numéro {k}."@fr ;
    skos:inScheme id:scheme\\/synthetic ;
    dct:source id:page\\/report-{rng.randint(1, pages)}{broader} .
""")
    program = lesson = event = 0
    for o in range(organizations):
        city = rng.randrange(cities)
        page = rng.randint(1, pages)
        files["organizations"].append(f"""id:organization\\/org-{o} a hr:Organization ;
{labels(f"Organization {o}", f"Organisme {o}")} ;
    dct:description "A synthetic community organization in city {city}."@en ,
        "Un organisme communautaire synthétique de la ville {city}."@fr ;
    hr:city id:city\\/city-{city} ;
    dct:source id:page\\/report-{page} .
""")
        for _ in range(rng.randint(1, 5)):
            practices = " , ".join(
                f"id:practice\\/practice-{k}"
                for k in sorted(rng.sample(range(40), rng.randint(1, 4)))
            )
            files["programs"].append(f"""id:program\\/program-{program} a hr:Program ;
{labels(f"Program {program}", f"Programme {program}")} ;
    dct:description "A synthetic program that distributes supplies and offers outreach."@en ,
        "Un programme synthétique qui distribue du matériel et offre du travail de rue."@fr ;
    hr:operatedBy id:organization\\/org-{o} ;
    hr:city id:city\\/city-{city} ;
    hr:usesPractice {practices} ;
    hr:service "Needle distribution"@en , "Distribution de seringues"@fr ;
    schema:startDate "{rng.randint(1985, 2008)}"^^xsd:gYear ;
    dct:source id:page\\/report-{page} .
""")
            for _ in range(rng.randint(0, 3)):
                kind = "Lesson" if rng.random() < 0.7 else "Challenge"
                slug = kind.lower()
                files["lessons"].append(f"""id:{slug}\\/{slug}-{lesson} a hr:{kind} ;
{labels(f"{kind} {lesson}", f"{'Leçon' if kind == 'Lesson' else 'Défi'} {lesson}")} ;
    dct:description "Build community support before launching a new service."@en ,
        "Obtenir l'appui de la communauté avant de lancer un nouveau service."@fr ;
    hr:about id:program\\/program-{program} ;
    hr:city id:city\\/city-{city} ;
    dct:source id:page\\/report-{page} .
""")
                lesson += 1
            if rng.random() < 0.3:
                files["milestones"].append(f"""id:milestone\\/milestone-{event} a hr:Milestone ;
{labels(f"Program {program} starts", f"Début du programme {program}")} ;
    dct:date "{rng.randint(1985, 2008)}"^^xsd:gYear ;
    hr:about id:program\\/program-{program} ;
    dct:source id:page\\/report-{page} .

id:figure\\/figure-{event} a hr:Figure ;
{labels(f"Clients of program {program}", f"Clients du programme {program}")} ;
    hr:value "{rng.randint(10, 2000)}"^^xsd:decimal ;
    hr:unit "clients"@en , "clients"@fr ;
    hr:about id:program\\/program-{program} ;
    dct:source id:page\\/report-{page} .
""")
                event += 1
            program += 1
    return {name: HEADER + "\n".join(blocks) for name, blocks in files.items()}


def write(out: Path, triples: int, seed: int = 2008) -> Path:
    if out.exists():
        shutil.rmtree(out)
    for folder in ("ontology", "shapes"):
        shutil.copytree(ROOT / folder, out / folder)
    (out / "data").mkdir(parents=True)
    organizations = max(20, triples // TRIPLES_PER_ORGANIZATION)
    for name, text in generate(organizations, seed).items():
        (out / "data" / f"{name}.ttl").write_text(text, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, required=True, help="approximate size")
    parser.add_argument("--out", type=Path, required=True, help="output folder (replaced)")
    parser.add_argument("--seed", type=int, default=2008)
    args = parser.parse_args()
    write(args.out, args.triples, args.seed)


if __name__ == "__main__":
    main()
