use super::*;
use crate::fixtures::*;
use crate::protocol::{CatalogAction, CatalogOp, EntityKind};

fn ids(page: &SearchPage) -> Vec<&str> {
    page.hits.iter().map(|h| h.product_id.as_str()).collect()
}

fn loaded() -> (tempfile::TempDir, crate::Profile) {
    let (d, p) = profile();
    let r = p.catalog().apply(&small_catalog()).unwrap();
    assert_eq!(r.applied, small_catalog().len());
    (d, p)
}

#[test]
fn apply_is_idempotent_and_moves_the_cursor() {
    let (_d, p) = loaded();
    let ops = small_catalog();
    let again = p.catalog().apply(&ops).unwrap();
    assert_eq!(again.applied, 0);
    assert_eq!(again.skipped, ops.len());
    assert_eq!(p.catalog().cursor().unwrap(), ops.len() as u64);
    let all = p.catalog().search(&SearchQuery::default()).unwrap();
    assert_eq!(all.hits.len(), 4);
    p.store().check_integrity().unwrap();
}

#[test]
fn batch_with_non_increasing_ids_is_refused() {
    let (_d, p) = profile();
    let mut ops = small_catalog();
    ops[3].op_id = 2;
    assert!(matches!(
        p.catalog().apply(&ops),
        Err(Error::InvalidBatch(_))
    ));
    assert_eq!(p.catalog().cursor().unwrap(), 0);
}

#[test]
fn a_bad_entity_fails_the_whole_batch() {
    let (_d, p) = profile();
    let mut ops = small_catalog();
    // A negative price in the middle of the batch.
    if let CatalogAction::Put {
        entity: Entity::Variant(v),
    } = &mut ops[7].action
    {
        v.prices[0].amount = idr(-5);
    }
    assert!(matches!(
        p.catalog().apply(&ops),
        Err(Error::InvalidEntity { .. })
    ));
    assert_eq!(p.catalog().cursor().unwrap(), 0);
    assert!(
        p.catalog()
            .search(&SearchQuery::default())
            .unwrap()
            .hits
            .is_empty()
    );
}

#[test]
fn dangling_reference_fails_the_batch_with_nothing_written() {
    let (_d, p) = profile();
    let ops = ops(
        vec![
            merchant("m1", "M"),
            product("p1", "m1", "c-missing", "Kopi", "x", 40, 1),
        ],
        1,
    );
    let err = p.catalog().apply(&ops).unwrap_err();
    assert!(
        matches!(err, Error::InvalidBatch(ref m) if m.contains("c-missing")),
        "{err}"
    );
    assert!(p.catalog().merchants().unwrap().is_empty());
}

#[test]
fn children_may_come_before_parents_within_a_batch() {
    let (_d, p) = profile();
    let ops = ops(
        vec![
            variant("v1", "p1", 1000, StockBand::InStock),
            product("p1", "m1", "c1", "Gula aren", "Manis", 40, 1),
            category("c1", None, "Sembako"),
            merchant("m1", "Toko"),
        ],
        1,
    );
    p.catalog().apply(&ops).unwrap();
    assert_eq!(p.catalog().product("p1").unwrap().variants.len(), 1);
}

#[test]
fn remove_deletes_product_variants_and_index_rows() {
    let (_d, p) = loaded();
    let before = p.catalog().search(&SearchQuery::text("kopi ")).unwrap();
    assert!(ids(&before).contains(&"p-gayo"));
    p.catalog()
        .apply(&[CatalogOp {
            op_id: 100,
            action: CatalogAction::Remove {
                kind: EntityKind::Product,
                id: "p-gayo".into(),
            },
        }])
        .unwrap();
    let after = p.catalog().search(&SearchQuery::text("kopi ")).unwrap();
    assert!(!ids(&after).contains(&"p-gayo"));
    assert!(matches!(
        p.catalog().product("p-gayo"),
        Err(Error::UnknownProduct(_))
    ));
    assert!(matches!(
        p.catalog().variant("v-gayo-250"),
        Err(Error::UnknownVariant(_))
    ));
    // Removing again (a re-sent tombstone) is fine.
    p.catalog()
        .apply(&[CatalogOp {
            op_id: 101,
            action: CatalogAction::Remove {
                kind: EntityKind::Product,
                id: "p-gayo".into(),
            },
        }])
        .unwrap();
    p.store().check_integrity().unwrap();
}

#[test]
fn updating_a_product_reindexes_it() {
    let (_d, p) = loaded();
    p.catalog()
        .apply(&ops(
            vec![product(
                "p-toraja",
                "m-kopi",
                "c-coffee",
                "Teh hijau",
                "Daun teh",
                45,
                2,
            )],
            200,
        ))
        .unwrap();
    assert!(
        !ids(&p.catalog().search(&SearchQuery::text("toraja ")).unwrap()).contains(&"p-toraja")
    );
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("teh ")).unwrap()),
        ["p-toraja"]
    );
    // Its variants survived the update (upsert, not replace).
    assert_eq!(p.catalog().product("p-toraja").unwrap().variants.len(), 1);
}

#[test]
fn search_is_case_and_diacritics_insensitive_with_prefix() {
    let (_d, p) = loaded();
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("CAFE")).unwrap()),
        ["p-kain"]
    );
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("café")).unwrap()),
        ["p-kain"]
    );
    // Search as you type.
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("kopi ara")).unwrap()),
        ["p-gayo"]
    );
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("pekal")).unwrap()),
        ["p-kemeja"]
    );
}

#[test]
fn indonesian_affixes_and_english_stems_match() {
    let (_d, p) = loaded();
    // "pembelian" in p-gayo, "membeli" in p-kain: both found from "beli".
    let mut found = ids(&p.catalog().search(&SearchQuery::text("beli ")).unwrap())
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    found.sort();
    assert_eq!(found, ["p-gayo", "p-kain"]);
    // "dikirim" found from "pengiriman".
    assert_eq!(
        ids(&p
            .catalog()
            .search(&SearchQuery::text("pengiriman "))
            .unwrap()),
        ["p-kemeja"]
    );
    // English: "shipping" finds "shipped", "brew" finds "brewing".
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("shipping ")).unwrap()),
        ["p-toraja"]
    );
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("brew ")).unwrap()),
        ["p-toraja"]
    );
}

#[test]
fn title_outranks_description() {
    let (_d, p) = profile();
    p.catalog()
        .apply(&ops(
            vec![
                merchant("m", "M"),
                category("c", None, "C"),
                product(
                    "p-desc",
                    "m",
                    "c",
                    "Gelas kaca",
                    "Cocok untuk kopi pagi hari",
                    40,
                    1,
                ),
                variant("v1", "p-desc", 1000, StockBand::InStock),
                product("p-title", "m", "c", "Kopi bubuk", "Bubuk halus", 40, 2),
                variant("v2", "p-title", 1000, StockBand::InStock),
            ],
            1,
        ))
        .unwrap();
    assert_eq!(
        ids(&p.catalog().search(&SearchQuery::text("kopi ")).unwrap()),
        ["p-title", "p-desc"]
    );
}

#[test]
fn snippet_highlights_the_match() {
    let (_d, p) = loaded();
    let page = p.catalog().search(&SearchQuery::text("aceh ")).unwrap();
    let s = page.hits[0].snippet.as_deref().unwrap();
    assert!(s.contains("**Aceh**"), "{s}");
}

#[test]
fn fts_syntax_never_errors() {
    let (_d, p) = loaded();
    for q in [
        "\"",
        "\"kopi",
        "kopi*",
        "*",
        "NEAR(kopi, gayo)",
        "-kopi",
        "kopi:gayo",
        "title:kopi",
        "AND",
        "OR OR",
        "kopi NOT gayo",
        "(((",
        "^",
        "'",
        "%",
        "kopi\0",
        "💥",
        "a:b:c",
        "{title}: kopi",
        "kopi + gayo",
    ] {
        let r = p.catalog().search(&SearchQuery::text(q));
        assert!(r.is_ok(), "{q:?}: {r:?}");
        assert!(p.catalog().facets(&SearchQuery::text(q)).is_ok(), "{q:?}");
    }
    // NEAR is just a word: it matches nothing here but kopi, gayo would.
    assert!(
        p.catalog()
            .search(&SearchQuery::text("NEAR(kopi gayo)"))
            .unwrap()
            .hits
            .is_empty()
    );
}

#[test]
fn filters_category_tree_merchant_price_stock() {
    let (_d, p) = loaded();
    let q = |f: &dyn Fn(&mut SearchQuery)| {
        let mut q = SearchQuery::default();
        f(&mut q);
        let mut v: Vec<String> = ids(&p.catalog().search(&q).unwrap())
            .into_iter()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    // Top category includes sub-categories.
    assert_eq!(
        q(&|q| q.category_id = Some("c-food".into())),
        ["p-gayo", "p-toraja"]
    );
    assert_eq!(
        q(&|q| q.merchant_id = Some("m-batik".into())),
        ["p-kain", "p-kemeja"]
    );
    assert_eq!(
        q(&|q| {
            q.min_price = Some(idr(100_000));
            q.max_price = Some(idr(200_000));
        }),
        ["p-kain", "p-toraja"]
    );
    assert_eq!(
        q(&|q| q.in_stock_only = true),
        ["p-gayo", "p-kemeja", "p-toraja"]
    );
    // A price bound in another currency is a typed error.
    let mut bad = SearchQuery {
        min_price: Some(Money::parse("5", Currency::USD).unwrap()),
        ..SearchQuery::default()
    };
    assert!(matches!(
        p.catalog().search(&bad),
        Err(Error::InvalidQuery(_))
    ));
    bad.min_price = Some(idr(10));
    bad.max_price = Some(idr(5));
    assert!(matches!(
        p.catalog().search(&bad),
        Err(Error::InvalidQuery(_))
    ));
}

#[test]
fn sorts() {
    let (_d, p) = loaded();
    let sorted = |s: SortOrder| {
        let q = SearchQuery {
            sort: s,
            ..SearchQuery::default()
        };
        ids(&p.catalog().search(&q).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sorted(SortOrder::PriceAsc),
        ["p-gayo", "p-toraja", "p-kain", "p-kemeja"]
    );
    assert_eq!(
        sorted(SortOrder::PriceDesc),
        ["p-kemeja", "p-kain", "p-toraja", "p-gayo"]
    );
    assert_eq!(
        sorted(SortOrder::Newest),
        ["p-kain", "p-kemeja", "p-toraja", "p-gayo"]
    );
    assert_eq!(
        sorted(SortOrder::Rating),
        ["p-kemeja", "p-gayo", "p-toraja", "p-kain"]
    );
    assert_eq!(sorted(SortOrder::Relevance), sorted(SortOrder::Rating));
}

#[test]
fn keyset_pagination_visits_every_row_once() {
    let (_d, p) = loaded();
    for sort in [SortOrder::PriceAsc, SortOrder::Newest, SortOrder::Relevance] {
        for text in ["", "kopi batik"] {
            let mut q = SearchQuery {
                text: text.into(),
                sort,
                limit: 1,
                ..SearchQuery::default()
            };
            let mut seen = Vec::new();
            loop {
                let page = p.catalog().search(&q).unwrap();
                seen.extend(ids(&page).into_iter().map(String::from));
                match page.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
            let full = p
                .catalog()
                .search(&SearchQuery {
                    limit: 100,
                    cursor: None,
                    ..q.clone()
                })
                .unwrap();
            assert_eq!(seen, ids(&full), "{sort:?} {text:?}");
        }
    }
}

#[test]
fn bad_cursor_and_limit_are_typed_errors() {
    let (_d, p) = loaded();
    let mut q = SearchQuery {
        limit: 1,
        ..SearchQuery::default()
    };
    let c = p.catalog().search(&q).unwrap().next_cursor.unwrap();
    q.cursor = Some("garbage".into());
    assert!(matches!(
        p.catalog().search(&q),
        Err(Error::InvalidQuery(_))
    ));
    // A cursor from another query.
    let other = SearchQuery {
        text: "kopi".into(),
        cursor: Some(c),
        limit: 1,
        ..SearchQuery::default()
    };
    assert!(matches!(
        p.catalog().search(&other),
        Err(Error::InvalidQuery(_))
    ));
    let unknown_cat = SearchQuery {
        category_id: Some("c-nope".into()),
        ..SearchQuery::default()
    };
    assert!(matches!(
        p.catalog().search(&unknown_cat),
        Err(Error::UnknownCategory(_))
    ));
    assert!(matches!(
        p.catalog().facets(&unknown_cat),
        Err(Error::UnknownCategory(_))
    ));
    let unknown_merchant = SearchQuery {
        merchant_id: Some("m-nope".into()),
        ..SearchQuery::text("kopi")
    };
    assert!(matches!(
        p.catalog().search(&unknown_merchant),
        Err(Error::UnknownMerchant(_))
    ));
    assert!(matches!(
        p.catalog().merchant("m-nope"),
        Err(Error::UnknownMerchant(_))
    ));
    for limit in [0, 101] {
        let q = SearchQuery {
            limit,
            ..SearchQuery::default()
        };
        assert!(matches!(
            p.catalog().search(&q),
            Err(Error::InvalidQuery(_))
        ));
    }
}

#[test]
fn facets_count_top_categories_and_price_bands() {
    let (_d, p) = loaded();
    let f = p.catalog().facets(&SearchQuery::default()).unwrap();
    assert_eq!(f.total, 4);
    let cats: Vec<(&str, u64)> = f
        .categories
        .iter()
        .map(|c| (c.category_id.as_str(), c.count))
        .collect();
    assert_eq!(cats, [("c-fashion", 2), ("c-food", 2)]);
    let bands: Vec<u64> = f.price_bands.iter().map(|b| b.count).collect();
    // 85k, 120k, 150k in [50k, 200k); 450k in [200k, 1M).
    assert_eq!(bands, [0, 3, 1, 0, 0]);
    assert_eq!(f.price_bands[1].min, idr(50_000));
    assert_eq!(f.price_bands[1].max, Some(idr(200_000)));
    let f = p.catalog().facets(&SearchQuery::text("batik ")).unwrap();
    assert_eq!(f.total, 2);
}

#[test]
fn detail_and_category_tree() {
    let (_d, p) = loaded();
    let d = p.catalog().product("p-gayo").unwrap();
    assert_eq!(d.merchant.name, "Kopi Nusantara");
    assert_eq!(
        d.category_path
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        ["c-food", "c-coffee"]
    );
    assert_eq!(d.variants.len(), 2);
    assert_eq!(d.stock, StockBand::InStock);
    // Variants come back ordered by id: "v-gayo-1k" < "v-gayo-250".
    assert_eq!(d.variants[0].id, "v-gayo-1k");
    assert_eq!(d.variants[0].prices[0].amount, idr(300_000));
    let tree = p.catalog().categories().unwrap();
    let food = tree.iter().find(|n| n.category.id == "c-food").unwrap();
    assert_eq!(food.product_count, 2);
    assert_eq!(food.children[0].category.id, "c-coffee");
    assert_eq!(food.children[0].product_count, 2);
    assert!(matches!(
        p.catalog().product("nope"),
        Err(Error::UnknownProduct(_))
    ));
}

#[test]
fn products_without_a_price_in_the_currency_are_skipped_across_pages() {
    let (_d, p) = profile();
    let mut entities = vec![merchant("m", "M"), category("c", None, "C")];
    for i in 0..60 {
        let pid = format!("p{i:02}");
        entities.push(product(&pid, "m", "c", "Kopi tubruk", "Kopi hitam", 40, 1));
        let mut v = variant(&format!("v{i:02}"), &pid, 10_000 + i, StockBand::InStock);
        if i % 3 != 0 {
            // Two in three are priced in USD only.
            if let Entity::Variant(var) = &mut v {
                var.prices = vec![crate::protocol::Price {
                    amount: Money::parse("1.50", Currency::USD).unwrap(),
                    compare_at: None,
                }];
            }
        }
        entities.push(v);
    }
    p.catalog().apply(&ops(entities, 1)).unwrap();
    let mut q = SearchQuery {
        limit: 7,
        ..SearchQuery::text("kopi")
    };
    let mut seen = Vec::new();
    loop {
        let page = p.catalog().search(&q).unwrap();
        seen.extend(page.hits.iter().map(|h| h.product_id.clone()));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<String> = (0..60)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("p{i:02}"))
        .collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    let usd = SearchQuery {
        currency: Currency::USD,
        limit: 100,
        ..SearchQuery::text("kopi")
    };
    assert_eq!(p.catalog().search(&usd).unwrap().hits.len(), 40);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Whatever is typed, search and facets answer (possibly with nothing), never an error.
    #[test]
    fn any_typed_text_is_searchable(text in ".{0,40}", sort in 0u8..5) {
        thread_local! {
            static LOADED: (tempfile::TempDir, crate::Profile) = loaded();
        }
        let sort = [SortOrder::Relevance, SortOrder::PriceAsc, SortOrder::PriceDesc, SortOrder::Newest, SortOrder::Rating][sort as usize];
        LOADED.with(|(_d, p)| {
            let q = SearchQuery { sort, ..SearchQuery::text(text.clone()) };
            proptest::prop_assert!(p.catalog().search(&q).is_ok());
            proptest::prop_assert!(p.catalog().facets(&q).is_ok());
            Ok(())
        })?;
    }
}

/// 60 products: "kopi" in the title of every third, in the description of the others.
fn kopi_catalog() -> (tempfile::TempDir, crate::Profile) {
    let (d, p) = profile();
    let mut entities = vec![merchant("m", "M"), category("c", None, "C")];
    for i in 0..60 {
        let pid = format!("p{i:02}");
        let (title, desc) = if i % 3 == 0 {
            ("Kopi tubruk", "Bubuk halus")
        } else {
            ("Gelas kaca", "Cocok untuk kopi pagi")
        };
        entities.push(product(&pid, "m", "c", title, desc, 40, 1));
        entities.push(variant(
            &format!("v{i:02}"),
            &pid,
            10_000 + i,
            StockBand::InStock,
        ));
    }
    p.catalog().apply(&ops(entities, 1)).unwrap();
    (d, p)
}

#[test]
fn broad_queries_are_tiered_and_every_match_is_reachable() {
    let (_d, p) = kopi_catalog();
    let tuning = search::Tuning {
        broad_matches: 10,
        title_window: 8,
    };
    let run = |tuning: search::Tuning| {
        let mut q = SearchQuery {
            limit: 7,
            ..SearchQuery::text("kopi ")
        };
        let mut seen = Vec::new();
        loop {
            let cache = std::sync::Mutex::default();
            let page = p
                .store()
                .read(|c| search::search(c, &q, tuning, &cache))
                .unwrap();
            seen.extend(
                page.hits
                    .iter()
                    .map(|h| (h.product_id.clone(), h.title.clone())),
            );
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        seen
    };
    let tiered = run(tuning);
    let plain = run(search::TUNING);
    assert_eq!(tiered.len(), 60);
    let mut ids: Vec<&str> = tiered.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "no product twice");
    // Title matches first (the 20 "Kopi tubruk"), the recency window (newest 8) leading.
    assert!(tiered[..20].iter().all(|(_, t)| t == "Kopi tubruk"));
    assert!(tiered[20..].iter().all(|(_, t)| t == "Gelas kaca"));
    let window: Vec<&str> = tiered[..8].iter().map(|(id, _)| id.as_str()).collect();
    let mut newest: Vec<String> = (0..60)
        .rev()
        .filter(|i| i % 3 == 0)
        .take(8)
        .map(|i| format!("p{i:02}"))
        .collect();
    newest.sort();
    let mut w = window.clone();
    w.sort();
    assert_eq!(w, newest);
    // Plain bm25 agrees that title matches come first.
    assert!(plain[..20].iter().all(|(_, t)| t == "Kopi tubruk"));
}

#[test]
fn filters_with_words_follow_catalog_changes() {
    let (_d, p) = loaded();
    let search = |f: &dyn Fn(&mut SearchQuery)| {
        let mut q = SearchQuery::text("batik kopi coffee");
        q.text = "kopi ".into();
        f(&mut q);
        let mut v: Vec<String> = ids(&p.catalog().search(&q).unwrap())
            .into_iter()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(search(&|_| {}), ["p-gayo"]);
    assert_eq!(
        search(&|q| q.text = "batik ".into()),
        ["p-kain", "p-kemeja"]
    );
    assert_eq!(
        search(&|q| {
            q.text = "batik ".into();
            q.category_id = Some("c-fashion".into()); // parent of c-batik
        }),
        ["p-kain", "p-kemeja"]
    );
    assert!(search(&|q| q.category_id = Some("c-fashion".into())).is_empty());
    assert_eq!(
        search(&|q| {
            q.text = "batik ".into();
            q.in_stock_only = true;
        }),
        ["p-kemeja"]
    );
    assert!(search(&|q| q.merchant_id = Some("m-batik".into())).is_empty());
    // The kain comes back in stock and moves to another top category: the index follows.
    p.catalog()
        .apply(&ops(
            vec![
                variant("v-kain", "p-kain", 150_000, StockBand::Low),
                category("c-batik", Some("c-food"), "Batik"),
            ],
            500,
        ))
        .unwrap();
    assert_eq!(
        search(&|q| {
            q.text = "batik ".into();
            q.in_stock_only = true;
            q.category_id = Some("c-food".into());
        }),
        ["p-kain", "p-kemeja"]
    );
    // Removing the category leaves its products uncategorised, and unfiltered.
    p.catalog()
        .apply(&[CatalogOp {
            op_id: 600,
            action: CatalogAction::Remove {
                kind: EntityKind::Category,
                id: "c-batik".into(),
            },
        }])
        .unwrap();
    assert!(
        search(&|q| {
            q.text = "batik ".into();
            q.category_id = Some("c-food".into());
        })
        .is_empty()
    );
    assert_eq!(
        search(&|q| q.text = "batik ".into()),
        ["p-kain", "p-kemeja"]
    );
    p.store().check_integrity().unwrap();
}

// -- quarantine: a synced entity the phone cannot store never blocks the rest ---------------

fn raw(ops: &[CatalogOp]) -> Vec<(u64, String)> {
    ops.iter()
        .map(|o| (o.op_id, serde_json::to_string(o).unwrap()))
        .collect()
}

/// Sets the first price's amount text of a variant op's JSON.
fn with_amount(body: &str, amount: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["entity"]["prices"][0]["amount"]["amount"] = amount.into();
    v.to_string()
}

fn variant_op_index(ops: &[CatalogOp]) -> usize {
    ops.iter()
        .position(|o| {
            matches!(
                &o.action,
                CatalogAction::Put {
                    entity: Entity::Variant(_)
                }
            )
        })
        .unwrap()
}

#[test]
fn sync_quarantines_a_price_out_of_range_and_applies_the_rest() {
    let (_d, p) = profile();
    let ops = small_catalog();
    let mut body = raw(&ops);
    let i = variant_op_index(&ops);
    body[i].1 = with_amount(&body[i].1, "9223372036854775808");
    let r = p.catalog().apply_sync(&body).unwrap();
    assert_eq!(r.quarantined, 1);
    assert_eq!(r.applied, ops.len() - 1);
    assert_eq!(p.catalog().cursor().unwrap(), ops.last().unwrap().op_id);
    let q = p.catalog().quarantined().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].kind, EntityKind::Variant);
    assert_eq!(q[0].op_id, ops[i].op_id);
    assert_eq!(p.catalog().quarantined_count().unwrap(), 1);
    let vid = q[0].id.clone();
    assert!(p.catalog().variant(&vid).is_err());
    // A later valid PUT of the same variant picks it up again.
    let mut fixed = ops[i].clone();
    fixed.op_id = 1000;
    let r = p.catalog().apply_sync(&raw(&[fixed])).unwrap();
    assert_eq!(r.quarantined, 0);
    assert!(p.catalog().quarantined().unwrap().is_empty());
    assert!(p.catalog().variant(&vid).is_ok());
    p.store().check_integrity().unwrap();
}

#[test]
fn sync_quarantines_an_amount_that_does_not_parse_and_a_remove_clears_it() {
    let (_d, p) = profile();
    let ops = small_catalog();
    let mut body = raw(&ops);
    let i = variant_op_index(&ops);
    body[i].1 = with_amount(&body[i].1, "1e3");
    let r = p.catalog().apply_sync(&body).unwrap();
    assert_eq!(r.quarantined, 1);
    assert_eq!(p.catalog().cursor().unwrap(), ops.last().unwrap().op_id);
    let q = p.catalog().quarantined().unwrap();
    assert_eq!(q[0].kind, EntityKind::Variant);
    let remove = CatalogOp {
        op_id: 1000,
        action: CatalogAction::Remove {
            kind: EntityKind::Variant,
            id: q[0].id.clone(),
        },
    };
    p.catalog().apply_sync(&raw(&[remove])).unwrap();
    assert!(p.catalog().quarantined().unwrap().is_empty());
}

#[test]
fn sync_quarantines_each_kind_and_what_hangs_on_a_quarantined_merchant() {
    let (_d, p) = profile();
    let ops = ops(
        vec![
            merchant("m1", "Toko"),
            merchant("m-bad", "\u{202E}evil"),
            category("c1", None, "Sembako"),
            category("c-bad", None, ""),
            product("p1", "m1", "c1", "Gula aren", "Manis", 40, 1),
            product("p2", "m-bad", "c1", "Kopi", "Hitam", 40, 1),
            variant("v1", "p1", 1000, StockBand::InStock),
            variant("v2", "p2", 1000, StockBand::InStock),
            variant("v-orphan", "p-never", 1000, StockBand::InStock),
        ],
        1,
    );
    let r = p.catalog().apply_sync(&raw(&ops)).unwrap();
    drop(ops);
    let mut q: Vec<_> = p
        .catalog()
        .quarantined()
        .unwrap()
        .into_iter()
        .map(|q| (q.kind, q.id))
        .collect();
    q.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        q,
        vec![
            (EntityKind::Category, "c-bad".to_string()),
            (EntityKind::Merchant, "m-bad".to_string()),
            (EntityKind::Product, "p2".to_string()),
            (EntityKind::Variant, "v-orphan".to_string()),
            (EntityKind::Variant, "v2".to_string()),
        ]
    );
    assert_eq!(r.quarantined, 5);
    assert_eq!(p.catalog().cursor().unwrap(), 9);
    assert!(p.catalog().product("p1").is_ok());
    assert!(p.catalog().product("p2").is_err());
    p.store().check_integrity().unwrap();
    // The merchant fixed: it is stored; its product comes back when the server re-sends it.
    let fixed = crate::fixtures::ops(
        vec![
            merchant("m-bad", "Toko Dua"),
            product("p2", "m-bad", "c1", "Kopi", "Hitam", 40, 1),
            variant("v2", "p2", 1000, StockBand::InStock),
        ],
        20,
    );
    p.catalog().apply_sync(&raw(&fixed)).unwrap();
    assert!(p.catalog().product("p2").is_ok());
    let hits = p
        .catalog()
        .search(&SearchQuery {
            text: "kopi".into(),
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&hits), vec!["p2"]);
    assert_eq!(p.catalog().quarantined_count().unwrap(), 2);
}

#[test]
fn staged_pull_quarantines_a_bad_op_in_the_middle_page() {
    let (_d, p) = profile();
    let ops = small_catalog();
    let mut body = raw(&ops);
    let i = variant_op_index(&ops);
    body[i].1 = with_amount(&body[i].1, "9223372036854775808");
    let mid = body.len() / 2;
    let (a, b) = body.split_at(i.max(1).min(mid));
    p.catalog().stage(a).unwrap();
    p.catalog().stage(b).unwrap();
    let r = p.catalog().apply_staged().unwrap();
    assert_eq!(r.quarantined, 1);
    assert_eq!(p.catalog().cursor().unwrap(), ops.last().unwrap().op_id);
    assert_eq!(p.catalog().staged_cursor().unwrap(), None);
    assert_eq!(p.catalog().quarantined_count().unwrap(), 1);
    p.store().check_integrity().unwrap();
}

#[test]
fn a_local_import_still_refuses_a_price_out_of_range() {
    let (_d, p) = profile();
    let ops = small_catalog();
    let mut body = raw(&ops);
    let i = variant_op_index(&ops);
    body[i].1 = with_amount(&body[i].1, "9223372036854775808");
    let parsed: Vec<CatalogOp> = body
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert!(p.catalog().apply(&parsed).is_err());
    assert_eq!(p.catalog().cursor().unwrap(), 0);
}
