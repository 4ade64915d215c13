//! The actix application: which route goes where, behind which middleware.

use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::require_token;
use super::error::ApiError;
use super::routes::{actors, health, invoke, metrics, snapshots, views};

/// Registers every route. Invoke is behind the token check (a no-op
/// without a token); the read-only views are too when `protect_reads`.
pub(crate) fn configure(config: &mut web::ServiceConfig, protect_reads: bool) {
    config
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::BadQuery(format!("invalid query string: {error}")).into()
        }))
        .service(get("/healthz", "healthz", web::get().to(health::healthz)))
        .service(get("/readyz", "readyz", web::get().to(health::readyz)))
        .service(
            web::scope("/v1/invoke")
                .wrap(from_fn(require_token))
                .service(
                    web::resource("/{target}*")
                        .name("invoke")
                        .route(web::post().to(invoke::invoke))
                        .default_service(web::to(method_not_allowed)),
                ),
        )
        .service(
            web::scope("")
                .wrap(Condition::new(protect_reads, from_fn(require_token)))
                .service(get("/metrics", "metrics", web::get().to(metrics::metrics)))
                .service(get("/v1/cluster", "cluster", web::get().to(views::cluster)))
                .service(get("/v1/shards", "shards", web::get().to(views::shards)))
                .service(get(
                    "/v1/functions",
                    "functions",
                    web::get().to(views::functions),
                ))
                .service(get("/v1/actors", "actors", web::get().to(actors::list)))
                .service(get(
                    "/v1/actors/{target}*",
                    "actor",
                    web::get().to(actors::actor),
                ))
                .service(get(
                    "/v1/snapshots",
                    "snapshots",
                    web::get().to(snapshots::snapshots),
                )),
        )
        .default_service(web::to(not_found));
}

/// A named resource answering only `route`, and 405 to other methods.
fn get(path: &str, name: &str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .name(name)
        .route(route)
        .default_service(web::to(method_not_allowed))
}

async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(request.path().to_owned()))
}

async fn method_not_allowed(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(request.method().to_string()))
}
