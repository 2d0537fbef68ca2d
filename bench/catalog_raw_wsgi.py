"""The raw baseline for the catalog benchmark: a bare WSGI app answering
``GET /api/v1/organizations/`` with the same SQL and the same JSON as the real
API (first page, 20 cards ordered by name), straight from psycopg.

Served by gunicorn exactly like the real app (see bench_catalog.py). Reads
DATABASE_URL; one connection per worker process, like Django's persistent
connections.
"""

import json
import os
from decimal import Decimal
from urllib.parse import parse_qs

import psycopg

MEDIA_URL = "/media/"
PAGE_SIZE = 20

VISIBLE = """
    FROM catalog_organization o
    JOIN portal_user u ON u.id = o.owner_id
    WHERE o.status = 'published' AND NOT u.is_blocked AND o.listed_until > now()
"""
COUNT_SQL = "SELECT count(*) " + VISIBLE
PAGE_SQL = (
    "SELECT o.id, o.name, o.slug, o.address, o.phone, o.website, c.id, c.name, c.slug "
    + VISIBLE.replace("WHERE", "JOIN portal_city c ON c.id = o.city_id WHERE")
    + " ORDER BY o.name, o.id LIMIT %s OFFSET %s"
)
CATEGORIES_SQL = """
    SELECT oc.organization_id, cat.id, cat.name, cat.slug
    FROM catalog_organization_categories oc JOIN catalog_category cat ON cat.id = oc.category_id
    WHERE oc.organization_id = ANY(%s) ORDER BY cat.position, cat.name
"""
PHOTOS_SQL = """
    SELECT organization_id, image FROM catalog_organizationphoto
    WHERE organization_id = ANY(%s) ORDER BY position, id
"""
PRICES_SQL = "SELECT organization_id, price FROM catalog_service WHERE is_active AND organization_id = ANY(%s)"

_conn = None


def _connection():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _conn


def organizations_page(page: int, host: str) -> dict:
    with _connection().cursor() as cur:
        cur.execute(COUNT_SQL)
        count = cur.fetchone()[0]
        cur.execute(PAGE_SQL, (PAGE_SIZE, (page - 1) * PAGE_SIZE))
        rows = cur.fetchall()
        ids = [r[0] for r in rows]
        categories: dict[int, list] = {i: [] for i in ids}
        covers: dict[int, str] = {}
        prices: dict[int, list[Decimal]] = {i: [] for i in ids}
        if ids:
            cur.execute(CATEGORIES_SQL, (ids,))
            for org_id, cat_id, name, slug in cur.fetchall():
                categories[org_id].append({"id": cat_id, "name": name, "slug": slug})
            cur.execute(PHOTOS_SQL, (ids,))
            for org_id, image in cur.fetchall():
                covers.setdefault(org_id, MEDIA_URL + image)
            cur.execute(PRICES_SQL, (ids,))
            for org_id, price in cur.fetchall():
                prices[org_id].append(price)
    results = []
    for org_id, name, slug, address, phone, website, city_id, city_name, city_slug in rows:
        low = min(prices[org_id]) if prices[org_id] else None
        results.append(
            {
                "id": org_id,
                "name": name,
                "slug": slug,
                "city": {"id": city_id, "name": city_name, "slug": city_slug},
                "categories": categories[org_id],
                "address": address,
                "phone": phone,
                "website": website,
                "min_price": None if low is None else f"{low:.2f}",
                "cover": covers.get(org_id),
                "url": f"/catalog/{org_id}/",
            }
        )
    last = max(1, -(-count // PAGE_SIZE))
    base = f"http://{host}/api/v1/organizations/"
    if page == 2:
        previous = base
    elif page > 2:
        previous = f"{base}?page={page - 1}"
    else:
        previous = None
    return {
        "count": count,
        "next": f"{base}?page={page + 1}" if page < last else None,
        "previous": previous,
        "results": results,
    }


def application(environ, start_response):
    if environ.get("PATH_INFO") != "/api/v1/organizations/":
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"detail":"Not found.","code":"not_found"}']
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        page = max(1, int(query.get("page", ["1"])[0]))
    except ValueError:
        page = 1
    body = json.dumps(
        organizations_page(page, environ.get("HTTP_HOST", "127.0.0.1")), ensure_ascii=False, separators=(",", ":")
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
