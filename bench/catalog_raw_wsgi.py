"""The raw baseline of the catalog benchmark: a bare WSGI function answering
``GET /api/v1/organizations/`` straight from psycopg, as a hand-written app
would, with byte-for-byte the JSON of the real API for every URL of the
benchmark's mix (bench/catalog_data.py ``url_mix``).

What it serves, like ``catalog.api.OrganizationListView``:

- ``city`` (slug or id), ``category`` (slug or id; its subcategories
  included), ``ordering`` (``name`` by default, ``-name``, ``newest``,
  ``-rating``, ``price``, ``-price``; ``relevance`` without a search is
  ``name``), ``page`` and ``page_size`` (1–100, default 20);
- the visible catalog only (published, owner not blocked, listing paid up);
- ``count``, ``next`` and ``previous`` built as DRF builds them (the request's
  absolute URL with ``page`` replaced or removed, parameters sorted), and each
  card: city, categories (by position, name), cheapest active service, first
  photo (by position, id) under MEDIA_URL, rating, reviews count, owner
  verified.

Three statements per page: the count; the page, its rows chosen on plain
columns (by price: joined to the services' minimum per organization, one
grouped scan), then the city, the cheapest price and the cover looked up for
those rows only; and the categories of the page's organizations. No search (``q``), no throttling, no middleware: it
is the floor the real app is compared with. A parameter it does not know, or
a value it cannot serve, is a 400; a page past the end a 404 (the mix has
neither).

Served by gunicorn exactly like the real app (see bench_catalog.py). Reads
DATABASE_URL; one connection per worker process, like Django's persistent
connections.
"""

import json
import os
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import psycopg

PATH = "/api/v1/organizations/"
MEDIA_URL = "/media/"
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
ORDER_BY = {
    "name": "o.name, o.id",
    "relevance": "o.name, o.id",  # relevance needs a search; without one the list is by name
    "-name": "o.name DESC, o.id DESC",
    "newest": "o.created_at DESC, o.id DESC",
    "-rating": "o.rating DESC NULLS LAST, o.reviews_count DESC, o.name, o.id",
    "price": "min_price ASC NULLS LAST, o.name, o.id",  # the cheapest active service
    "-price": "min_price DESC NULLS LAST, o.name, o.id",
}
KNOWN = {"city", "category", "ordering", "page", "page_size"}

VISIBLE = """
    FROM catalog_organization o JOIN portal_user u ON u.id = o.owner_id{prices}
    WHERE o.status = 'published' AND NOT u.is_blocked AND o.listed_until > now()"""
# Ordering by price needs every organization's cheapest active service: one grouped scan of the services.
PRICES_JOIN = """
    LEFT JOIN (SELECT organization_id, min(price) AS min_price FROM catalog_service
               WHERE is_active GROUP BY organization_id) s ON s.organization_id = o.id"""
# The page: its rows chosen first (plain columns), then the city, the cheapest price and the cover of
# those rows only.
PAGE_SQL = """
    SELECT o.id, o.name, o.slug, o.address, o.phone, o.website, o.rating, o.reviews_count, o.is_verified,
           c.id, c.name, c.slug, {min_price},
           (SELECT p.image FROM catalog_organizationphoto p
            WHERE p.organization_id = o.id ORDER BY p.position, p.id LIMIT 1)
    FROM (SELECT o.id, o.name, o.slug, o.address, o.phone, o.website, o.rating, o.reviews_count, o.created_at,
                 o.city_id, u.is_verified{page_price}
          {visible} {where}
          ORDER BY {order} LIMIT %s OFFSET %s) o
    JOIN portal_city c ON c.id = o.city_id
    ORDER BY {order}"""
MIN_PRICE = "(SELECT min(s.price) FROM catalog_service s WHERE s.organization_id = o.id AND s.is_active) AS min_price"
CATEGORIES_SQL = """
    SELECT oc.organization_id, k.id, k.name, k.slug
    FROM catalog_organization_categories oc JOIN catalog_category k ON k.id = oc.category_id
    WHERE oc.organization_id = ANY(%s) ORDER BY k.position, k.name
"""
CITY_BY_SLUG = " AND o.city_id = (SELECT id FROM portal_city WHERE slug = %s)"
CITY_BY_ID = " AND o.city_id = %s"
# The category and its children, like catalog.selectors.organization_list.
CATEGORY_BY_SLUG = """ AND o.id IN (
    SELECT oc.organization_id FROM catalog_organization_categories oc
    WHERE oc.category_id IN (SELECT id FROM catalog_category
                             WHERE slug = %s OR parent_id IN (SELECT id FROM catalog_category WHERE slug = %s)))"""
CATEGORY_BY_ID = """ AND o.id IN (
    SELECT oc.organization_id FROM catalog_organization_categories oc
    WHERE oc.category_id IN (SELECT id FROM catalog_category WHERE id = %s OR parent_id = %s))"""

_conn = None


class BadRequest(Exception):
    pass


class NotFound(Exception):
    pass


def _connection():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _conn


def _one(query: dict, name: str) -> str | None:
    values = query.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise BadRequest(name)
    return values[0]


def _number(value: str | None, default: int, maximum: int | None = None) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or int(value) < 1 or (maximum and int(value) > maximum):
        raise BadRequest(value)
    return int(value)


def _with_page(url: str, page: int | None) -> str:
    """``url`` with ``page`` replaced (or removed when None), the parameters sorted, as DRF writes its links."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    if page is None:
        params.pop("page", None)
    else:
        params["page"] = [str(page)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def organizations_page(query_string: str, host: str) -> dict:
    query = parse_qs(query_string, keep_blank_values=True)
    if set(query) - KNOWN:
        raise BadRequest(sorted(set(query) - KNOWN))
    city, category = _one(query, "city"), _one(query, "category")
    ordering = _one(query, "ordering") or "name"
    if ordering not in ORDER_BY:
        raise BadRequest(ordering)
    page = _number(_one(query, "page"), 1)
    size = _number(_one(query, "page_size"), PAGE_SIZE, MAX_PAGE_SIZE)

    where, params = "", []
    if city:
        where += CITY_BY_ID if city.isdigit() else CITY_BY_SLUG
        params.append(int(city) if city.isdigit() else city)
    if category:
        where += CATEGORY_BY_ID if category.isdigit() else CATEGORY_BY_SLUG
        value = int(category) if category.isdigit() else category
        params += [value, value]
    by_price = ordering in ("price", "-price")
    with _connection().cursor() as cur:
        cur.execute("SELECT count(*)" + VISIBLE.format(prices="") + where, params)
        count = cur.fetchone()[0]
        last = max(1, -(-count // size))
        if page > last:
            raise NotFound(page)
        sql = PAGE_SQL.format(
            min_price="o.min_price" if by_price else MIN_PRICE,
            page_price=", s.min_price" if by_price else "",
            visible=VISIBLE.format(prices=PRICES_JOIN if by_price else ""),
            where=where,
            order=ORDER_BY[ordering],
        )
        cur.execute(sql, [*params, size, (page - 1) * size])
        rows = cur.fetchall()
        categories: dict[int, list] = {row[0]: [] for row in rows}
        if rows:
            cur.execute(CATEGORIES_SQL, (list(categories),))
            for org_id, cat_id, name, slug in cur.fetchall():
                categories[org_id].append({"id": cat_id, "name": name, "slug": slug})
    results = [
        {
            "id": org_id,
            "name": name,
            "slug": slug,
            "city": {"id": city_id, "name": city_name, "slug": city_slug},
            "categories": categories[org_id],
            "address": address,
            "phone": phone,
            "website": website,
            "min_price": None if min_price is None else f"{min_price:.2f}",
            "cover": None if cover is None else MEDIA_URL + quote(cover, safe="/~!*()'"),
            "url": f"/catalog/{org_id}/",
            "rating": None if rating is None else f"{rating:.2f}",
            "reviews_count": reviews_count,
            "is_verified": is_verified,
        }
        for (org_id, name, slug, address, phone, website, rating, reviews_count, is_verified,
             city_id, city_name, city_slug, min_price, cover) in rows
    ]  # fmt: skip
    url = f"http://{host}{PATH}" + (f"?{query_string}" if query_string else "")
    return {
        "count": count,
        "next": _with_page(url, page + 1) if page < last else None,
        "previous": None if page == 1 else _with_page(url, None if page == 2 else page - 1),
        "results": results,
    }


def _answer(start_response, status: str, data: dict) -> list[bytes]:
    # As DRF's JSONRenderer: UTF-8, compact, with U+2028/U+2029 escaped.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    body = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
        return _answer(start_response, "404 Not Found", {"detail": "Not found.", "code": "not_found"})
    try:
        data = organizations_page(environ.get("QUERY_STRING", ""), environ.get("HTTP_HOST", "127.0.0.1"))
    except BadRequest:
        return _answer(start_response, "400 Bad Request", {"detail": "Bad request.", "code": "invalid"})
    except NotFound:
        return _answer(start_response, "404 Not Found", {"detail": "Invalid page.", "code": "not_found"})
    return _answer(start_response, "200 OK", data)
