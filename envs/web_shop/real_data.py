"""WebShop's real 1,000-product set (princeton-nlp/WebShop, MIT), read from the data cache on request.

The shop plays a generated catalogue by default; ``WebShopEnv(data="webshop-1k")`` plays WebShop's own
products and its 13 real human goals instead. The files are the ``webshop-1k`` data set of
:mod:`envs.upstream` (fetched with ``python -m envs.upstream.fetch webshop-1k --source DIR``; no public URL
serves these exact bytes), checked by sha256 before use.

Example::

    from envs.web_shop.real_data import load_real_data

    shop = load_real_data("webshop-1k")   # ShopData: 1,000 products, 13 goals
"""

from __future__ import annotations

from functools import cache

from envs.upstream import data_file
from envs.web_shop.catalog import ShopData, load_webshop

#: Names the shop accepts for ``data``: the real data sets it can play.
REAL_DATA: tuple[str, ...] = ("webshop-1k",)


@cache
def load_real_data(name: str) -> ShopData:
    """The products and human goals of real data set ``name`` (loaded once per process)."""
    if name not in REAL_DATA:
        raise ValueError(f"unknown shop data {name!r}; choose one of {list(REAL_DATA)}")
    return load_webshop(
        data_file(name, "items_shuffle_1000.reconstructed.json"),
        data_file(name, "items_ins_v2_1000.json"),
        data_file(name, "items_human_ins.subset.json"),
    )
