//! The merchant API: a merchant's own profile, products and variants (with exact stock).
//!
//! Every route is scoped to the merchant of the API key: another merchant's product or
//! variant is answered exactly like a missing one (404 `not_found`), so ids reveal nothing.

use super::AppState;
use super::extract::{ApiJson, ApiPath, ApiQuery, MerchantAuth};
use crate::error::ApiFailure;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use warung_core::protocol::{
    ApiError, Category, Merchant, MerchantProduct, MerchantProfile, MerchantVariant, PricesUpdate,
    ProductInput, ProductList, StockUpdate, VariantInput,
};

/// Products per page when the client does not say.
pub const DEFAULT_PRODUCT_LIMIT: u32 = 50;
/// The largest product page.
pub const MAX_PRODUCT_LIMIT: u32 = 200;

type Result<T> = std::result::Result<T, ApiFailure>;

/// Query of `GET /v1/merchant/products`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductListParams {
    /// The `next_after` of the previous page (absent for the first page).
    pub after: Option<String>,
    /// Products per page, 1 ..= 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The calling merchant's public profile.
#[utoipa::path(
    get, path = "/v1/merchant", tag = "merchant",
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The merchant", body = Merchant),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
    )
)]
pub async fn get_merchant(
    State(state): State<AppState>,
    MerchantAuth(id): MerchantAuth,
) -> Result<Json<Merchant>> {
    Ok(Json(state.store.merchant(id).await?))
}

/// Update the profile, policies and contact (re-published to the catalog).
#[utoipa::path(
    put, path = "/v1/merchant", tag = "merchant",
    request_body = MerchantProfile,
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The updated merchant", body = Merchant),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 422, description = "Empty name, over-long text (`invalid_data`)", body = ApiError),
    )
)]
pub async fn put_merchant(
    State(state): State<AppState>,
    MerchantAuth(id): MerchantAuth,
    ApiJson(profile): ApiJson<MerchantProfile>,
) -> Result<Json<Merchant>> {
    Ok(Json(state.store.update_merchant(id, profile).await?))
}

/// The shared categories a product can be filed under (public).
#[utoipa::path(
    get, path = "/v1/categories", tag = "merchant",
    responses((status = 200, description = "Every category, parents first", body = Vec<Category>))
)]
pub async fn categories(State(state): State<AppState>) -> Result<Json<Vec<Category>>> {
    Ok(Json(state.store.categories().await?))
}

/// The merchant's products by id, with variants and exact stock.
#[utoipa::path(
    get, path = "/v1/merchant/products", tag = "merchant",
    params(ProductListParams),
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "A page of products", body = ProductList),
        (status = 400, description = "Invalid `limit` (`invalid_query`)", body = ApiError),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
    )
)]
pub async fn list_products(
    State(state): State<AppState>,
    MerchantAuth(id): MerchantAuth,
    ApiQuery(q): ApiQuery<ProductListParams>,
) -> Result<Json<ProductList>> {
    let limit = q.limit.unwrap_or(DEFAULT_PRODUCT_LIMIT);
    if limit == 0 || limit > MAX_PRODUCT_LIMIT {
        return Err(ApiFailure::invalid_query(format!(
            "limit must be between 1 and {MAX_PRODUCT_LIMIT}"
        )));
    }
    Ok(Json(state.store.list_products(id, q.after, limit).await?))
}

/// Create a product (the server assigns its id); add variants next.
#[utoipa::path(
    post, path = "/v1/merchant/products", tag = "merchant",
    request_body = ProductInput,
    security(("merchant_key" = [])),
    responses(
        (status = 201, description = "Created", body = MerchantProduct),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 422, description = "`invalid_data` or `unknown_category`", body = ApiError),
    )
)]
pub async fn create_product(
    State(state): State<AppState>,
    MerchantAuth(id): MerchantAuth,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<(StatusCode, Json<MerchantProduct>)> {
    let product = state.store.create_product(id, input).await?;
    Ok((StatusCode::CREATED, Json(product)))
}

/// One of the merchant's products.
#[utoipa::path(
    get, path = "/v1/merchant/products/{id}", tag = "merchant",
    params(("id" = String, Path, description = "Product id")),
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The product", body = MerchantProduct),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such product of this merchant (`not_found`)", body = ApiError),
    )
)]
pub async fn get_product(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MerchantProduct>> {
    Ok(Json(state.store.product(merchant, id).await?))
}

/// Replace a product's fields (its variants stay).
#[utoipa::path(
    put, path = "/v1/merchant/products/{id}", tag = "merchant",
    params(("id" = String, Path, description = "Product id")),
    request_body = ProductInput,
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The updated product", body = MerchantProduct),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such product of this merchant (`not_found`)", body = ApiError),
        (status = 422, description = "`invalid_data` or `unknown_category`", body = ApiError),
    )
)]
pub async fn put_product(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<Json<MerchantProduct>> {
    Ok(Json(state.store.update_product(merchant, id, input).await?))
}

/// Delete a product and its variants (tombstones in the catalog).
#[utoipa::path(
    delete, path = "/v1/merchant/products/{id}", tag = "merchant",
    params(("id" = String, Path, description = "Product id")),
    security(("merchant_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such product of this merchant (`not_found`)", body = ApiError),
    )
)]
pub async fn delete_product(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    state.store.delete_product(merchant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a variant to a product.
#[utoipa::path(
    post, path = "/v1/merchant/products/{id}/variants", tag = "merchant",
    params(("id" = String, Path, description = "Product id")),
    request_body = VariantInput,
    security(("merchant_key" = [])),
    responses(
        (status = 201, description = "Created", body = MerchantVariant),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such product of this merchant (`not_found`)", body = ApiError),
        (status = 422, description = "Empty sku, bad prices (`invalid_data`)", body = ApiError),
    )
)]
pub async fn create_variant(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<VariantInput>,
) -> Result<(StatusCode, Json<MerchantVariant>)> {
    let v = state.store.create_variant(merchant, id, input).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Replace a variant (sku, options, prices, exact stock, weight).
#[utoipa::path(
    put, path = "/v1/merchant/variants/{id}", tag = "merchant",
    params(("id" = String, Path, description = "Variant id")),
    request_body = VariantInput,
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The updated variant", body = MerchantVariant),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such variant of this merchant (`not_found`)", body = ApiError),
        (status = 422, description = "Empty sku, bad prices (`invalid_data`)", body = ApiError),
    )
)]
pub async fn put_variant(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<VariantInput>,
) -> Result<Json<MerchantVariant>> {
    Ok(Json(state.store.update_variant(merchant, id, input).await?))
}

/// Delete a variant (a tombstone in the catalog).
#[utoipa::path(
    delete, path = "/v1/merchant/variants/{id}", tag = "merchant",
    params(("id" = String, Path, description = "Variant id")),
    security(("merchant_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such variant of this merchant (`not_found`)", body = ApiError),
    )
)]
pub async fn delete_variant(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    state.store.delete_variant(merchant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the exact stock count (phones see only the band).
#[utoipa::path(
    put, path = "/v1/merchant/variants/{id}/stock", tag = "merchant",
    params(("id" = String, Path, description = "Variant id")),
    request_body = StockUpdate,
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The updated variant", body = MerchantVariant),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such variant of this merchant (`not_found`)", body = ApiError),
    )
)]
pub async fn put_stock(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(update): ApiJson<StockUpdate>,
) -> Result<Json<MerchantVariant>> {
    Ok(Json(
        state.store.set_stock(merchant, id, update.stock).await?,
    ))
}

/// Replace a variant's prices.
#[utoipa::path(
    put, path = "/v1/merchant/variants/{id}/prices", tag = "merchant",
    params(("id" = String, Path, description = "Variant id")),
    request_body = PricesUpdate,
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The updated variant", body = MerchantVariant),
        (status = 401, description = "Missing or unknown API key (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such variant of this merchant (`not_found`)", body = ApiError),
        (status = 422, description = "No price, duplicate currency, bad compare_at (`invalid_data`)", body = ApiError),
    )
)]
pub async fn put_prices(
    State(state): State<AppState>,
    MerchantAuth(merchant): MerchantAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(update): ApiJson<PricesUpdate>,
) -> Result<Json<MerchantVariant>> {
    Ok(Json(state.store.set_prices(merchant, id, update).await?))
}
