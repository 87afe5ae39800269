//! The input rules of issue 10 at the HTTP edge: an amount past the wire range and display text
//! that misleads or breaks clients are refused with a typed 422 before anything is written or
//! published. Every field that takes text is tried.

use serde_json::{Value, json};
use warung_core::protocol::MerchantKind;

mod common;

use common::{Resp, Srv};

/// A right-to-left override (`invoice<U+202E>fdp.exe` shows as `invoiceexe.pdf`), an invisible-only
/// text, a NUL, a line separator.
const RLO: &str = "invoice\u{202E}fdp.exe";
const ZERO_WIDTH: &str = "\u{200B}\u{200C}\u{FEFF}";
const NUL: &str = "a\u{0}b";
const ISOLATE: &str = "a\u{2066}b";

async fn merchant(s: &Srv) -> String {
    s.server
        .admin()
        .create_merchant("Toko Uji", MerchantKind::Shop)
        .await
        .unwrap()
        .1
}

/// The catalog cursor: what has been published so far.
async fn published(s: &Srv) -> u64 {
    let r = s
        .get("/v1/buckets/catalog/ops?after=0&limit=5000", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["checkpoint"]["op_id"].as_u64().unwrap()
}

/// `base` with the value at a dotted `path` (`contact.phone`, `image_urls.0`) replaced; a
/// path ending in `{}` makes the value a key of that map instead.
fn with(base: &Value, path: &str, value: &str) -> Value {
    let mut out = base.clone();
    let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
    let at = out
        .pointer_mut(format!("/{}", parent.replace('.', "/")).trim_end_matches('/'))
        .unwrap();
    match last {
        "{}" => *at = json!({ value: "x" }),
        _ => match last.parse::<usize>() {
            Ok(n) => at[n] = json!(value),
            Err(_) => at[last] = json!(value),
        },
    }
    out
}

#[track_caller]
fn refused(r: &Resp, what: &str) {
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_text"),
        "{what}: {}",
        r.text
    );
}

fn idr(amount: &str) -> Value {
    json!({"amount": amount, "currency": "IDR"})
}

#[tokio::test]
async fn amounts_past_the_wire_range_are_422_and_publish_nothing() {
    let s = common::spawn().await;
    let key = merchant(&s).await;
    let k = Some(key.as_str());
    let r = s
        .call(
            "POST",
            "/v1/merchant/products",
            k,
            Some(json!({"category_id": "c-fashion", "title": "Kemeja"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = r.body["product"]["id"].as_str().unwrap().to_owned();
    let variant =
        |prices: Value| json!({"sku": "K-1", "prices": prices, "stock": 5, "weight_grams": 250});
    let before = published(&s).await;
    for prices in [
        // 2^63: past what a phone stores as i64 minor units (the defect as reported).
        json!([{"amount": idr("9223372036854775808")}]),
        json!([{"amount": {"amount": "92233720368547758.08", "currency": "USD"}}]),
        // Storable, but past the 14 digits of the wire range.
        json!([{"amount": idr("100000000000000")}]),
        json!([{"amount": idr("125000"), "compare_at": idr("9223372036854775808")}]),
    ] {
        let r = s
            .call(
                "POST",
                &format!("/v1/merchant/products/{pid}/variants"),
                k,
                Some(variant(prices.clone())),
            )
            .await;
        r.expect(422, "amount_out_of_range");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("14 digits")
        );
    }
    assert_eq!(
        published(&s).await,
        before,
        "a refused price published an op"
    );

    // The largest amount that is allowed goes through, and then cannot be raised past it.
    let r = s
        .call(
            "POST",
            &format!("/v1/merchant/products/{pid}/variants"),
            k,
            Some(variant(json!([{"amount": idr("99999999999999")}]))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let vid = r.body["variant"]["id"].as_str().unwrap().to_owned();
    let after_create = published(&s).await;
    for path in [format!("/v1/merchant/variants/{vid}/prices")] {
        let r = s
            .call(
                "PUT",
                &path,
                k,
                Some(json!({"prices": [{"amount": idr("9223372036854775808")}]})),
            )
            .await;
        r.expect(422, "amount_out_of_range");
    }
    let r = s
        .call(
            "PUT",
            &format!("/v1/merchant/variants/{vid}"),
            k,
            Some(variant(json!([{"amount": idr("100000000000000")}]))),
        )
        .await;
    r.expect(422, "amount_out_of_range");
    assert_eq!(published(&s).await, after_create);
    s.server.shutdown().await;
}

/// Sends `body` to every route of one resource (create and replace); each must refuse it.
async fn refused_by_all(
    s: &Srv,
    key: Option<&str>,
    routes: &[(&str, String)],
    body: &serde_json::Value,
    what: &str,
) {
    for (method, path) in routes {
        let r = s.call(method, path, key, Some(body.clone())).await;
        refused(&r, &format!("{method} {path}: {what}"));
    }
}

#[tokio::test]
async fn every_display_text_field_refuses_misleading_text() {
    let s = common::spawn().await;
    let key = merchant(&s).await;
    let k = Some(key.as_str());

    // The merchant profile: every text field.
    let profile = json!({"name": "Toko Uji", "city": "Bandung",
        "contact": {"phone": "0812", "email": "a@b.id", "whatsapp": "0812"},
        "policies": {"shipping": "JNE", "warranty": "7 hari", "returns": "Boleh"}});
    let r = s
        .call("PUT", "/v1/merchant", k, Some(profile.clone()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let profile_routes = [("PUT", "/v1/merchant".to_owned())];
    for field in [
        "name",
        "city",
        "contact.phone",
        "contact.email",
        "contact.whatsapp",
        "policies.shipping",
        "policies.warranty",
        "policies.returns",
    ] {
        for bad in [RLO, ZERO_WIDTH, NUL, ISOLATE] {
            let body = with(&profile, field, bad);
            refused_by_all(&s, k, &profile_routes, &body, &format!("{field} = {bad:?}")).await;
        }
    }
    // Names and titles are one line; policies may span lines.
    let r = s
        .call(
            "PUT",
            "/v1/merchant",
            k,
            Some(with(&profile, "name", "a\nb")),
        )
        .await;
    refused(&r, "a name with a newline");
    let r = s
        .call(
            "PUT",
            "/v1/merchant",
            k,
            Some(with(&profile, "policies.returns", "1. a\n2. b")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Products: create and replace.
    let product = json!({"category_id": "c-fashion", "title": "Kemeja", "description": "Batik",
        "brand": "Pesona", "attributes": {"bahan": "katun"}, "image_urls": ["https://img.id/a.jpg"]});
    let r = s
        .call("POST", "/v1/merchant/products", k, Some(product.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = r.body["product"]["id"].as_str().unwrap().to_owned();
    let product_routes = [
        ("POST", "/v1/merchant/products".to_owned()),
        ("PUT", format!("/v1/merchant/products/{pid}")),
    ];
    for field in [
        "title",
        "description",
        "brand",
        "category_id",
        "attributes.bahan",
        "attributes.{}",
        "image_urls.0",
    ] {
        for bad in [RLO, ZERO_WIDTH, NUL, ISOLATE] {
            // A URL has visible text anyway; what it must not carry is a control.
            let bad = match field {
                "image_urls.0" if bad == ZERO_WIDTH => continue,
                "image_urls.0" => format!("https://img.id/{bad}"),
                _ => bad.to_owned(),
            };
            let body = with(&product, field, &bad);
            refused_by_all(&s, k, &product_routes, &body, &format!("{field} = {bad:?}")).await;
        }
    }
    // A category id is an identifier: visible ASCII, no spaces.
    let r = s
        .call(
            "POST",
            "/v1/merchant/products",
            k,
            Some(with(&product, "category_id", "c fashion")),
        )
        .await;
    refused(&r, "category id with a space");

    // Variants: create and replace.
    let variant = json!({"sku": "K-1", "options": {"ukuran": "M"},
        "prices": [{"amount": idr("125000")}], "stock": 5, "weight_grams": 250});
    let r = s
        .call(
            "POST",
            &format!("/v1/merchant/products/{pid}/variants"),
            k,
            Some(variant.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let vid = r.body["variant"]["id"].as_str().unwrap().to_owned();
    let variant_routes = [
        ("POST", format!("/v1/merchant/products/{pid}/variants")),
        ("PUT", format!("/v1/merchant/variants/{vid}")),
    ];
    for field in ["sku", "options.ukuran", "options.{}"] {
        for bad in [RLO, ZERO_WIDTH, NUL, ISOLATE] {
            let body = with(&variant, field, bad);
            refused_by_all(&s, k, &variant_routes, &body, &format!("{field} = {bad:?}")).await;
        }
    }

    // Merchants created by the operator follow the same rule.
    for bad in [RLO, ZERO_WIDTH, NUL] {
        assert!(
            s.server
                .admin()
                .create_merchant(bad, MerchantKind::Seller)
                .await
                .is_err(),
            "merchant name {bad:?}"
        );
    }
    s.server.shutdown().await;
}

#[tokio::test]
async fn app_version_idempotency_key_and_message_id_refuse_control_characters() {
    let s = common::spawn().await;
    for version in ["1.0\u{0}", "1.0\u{7}", RLO, "1.0\n"] {
        let r = s
            .call(
                "POST",
                "/v1/devices",
                None,
                Some(
                    json!({"device_id": common::new_device_id(), "platform": "android",
                    "app_version": version}),
                ),
            )
            .await;
        refused(&r, &format!("app_version {version:?}"));
    }
    let id = common::new_device_id();
    let r = s
        .call(
            "POST",
            "/v1/devices",
            None,
            Some(json!({"device_id": id, "platform": "android", "app_version": "2.3.1 (45)"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["device_token"].as_str().unwrap().to_owned();
    let intent = |key: &str| {
        json!({"intents": [{"device_id": id, "seq": 1, "idempotency_key": key,
            "created_at": "2026-06-01T10:00:00Z", "kind": "cart.clear", "payload": {}}]})
    };
    for key in [
        "k\u{0}",
        "k\u{1B}[31m",
        "two words",
        "kunci-é",
        ZERO_WIDTH,
        "",
    ] {
        let r = s
            .call("POST", "/v1/intents", Some(&token), Some(intent(key)))
            .await;
        refused(&r, &format!("idempotency_key {key:?}"));
    }
    // Nothing was stored: seq 1 is still free for a good key.
    let r = s
        .call(
            "POST",
            "/v1/intents",
            Some(&token),
            Some(intent("01937b5e-8c2d-7f00-9a1b-3c4d5e6f7a8b")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["results"][0]["outcome"]["status"], "applied");

    let r = s
        .inbound_with(
            "m\u{0}1",
            "+6281234567890",
            "WRG BIND X",
            0,
            common::INBOUND_SECRET,
        )
        .await;
    refused(&r, "inbound message_id with a NUL");
    s.server.shutdown().await;
}
