//! Stripe refunds: `POST /v1/refunds` (amount limits, one refund per charge state,
//! idempotency) and their listing.

use super::*;

pub(super) async fn create_refund(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let pairs = http::form_pairs(&body);
    idempotent(&stripe, &req, &pairs, || {
        let amount = match param(&pairs, "amount") {
            None => None,
            Some(a) => match a.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return err(
                        400,
                        "invalid_request_error",
                        Some("parameter_invalid_integer"),
                        &format!("Invalid positive integer: {a}"),
                        Some("amount"),
                    );
                }
            },
        };
        let reason = param(&pairs, "reason");
        if reason
            .as_deref()
            .is_some_and(|r| !["duplicate", "fraudulent", "requested_by_customer"].contains(&r))
        {
            return err(
                400,
                "invalid_request_error",
                None,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                Some("reason"),
            );
        }
        let now = Utc::now();
        let result = inner.mutate(|core| {
            let order = match (param(&pairs, "payment_intent"), param(&pairs, "charge")) {
                (Some(pi), _) => find_intent(core, &pi)
                    .map(|o| o.id)
                    .ok_or_else(|| err(400, "invalid_request_error", Some("resource_missing"), &format!("No such payment_intent: '{pi}'"), Some("payment_intent")))?,
                (None, Some(ch)) => order_of_charge(core, &ch)
                    .map(|o| o.id)
                    .ok_or_else(|| err(400, "invalid_request_error", Some("resource_missing"), &format!("No such charge: '{ch}'"), Some("charge")))?,
                (None, None) => {
                    return Err(err(400, "invalid_request_error", Some("parameter_missing"), "One of the following params should be provided for this request: payment_intent or charge.", None));
                }
            };
            let Some(o) = core.order(order) else {
                return Err(err(500, "api_error", None, "An unknown error occurred", None));
            };
            let Some(payment) = o.payment.as_ref() else {
                return Err(err(400, "invalid_request_error", None, "This PaymentIntent does not have a successful charge to refund.", Some("payment_intent")));
            };
            let charge_id = stripe_id("ch", payment.id);
            let left = o.total_minor - o.refunded_minor();
            if left <= 0 {
                return Err(err(400, "invalid_request_error", Some("charge_already_refunded"), &format!("Charge {charge_id} has already been refunded."), None));
            }
            if let Some(asked) = amount
                && asked > left
            {
                let currency = o.currency.clone();
                return Err(err(400, "invalid_request_error", Some("amount_too_large"), &format!(
                    "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                    crate::money::decimal(asked, &currency),
                    crate::money::decimal(left, &currency)
                ), Some("amount")));
            }
            let spec = RefundSpec {
                amount_minor: Some(amount.unwrap_or(left)),
                reason: reason.clone(),
                ..RefundSpec::default()
            };
            let (refund, changes) = core
                .refund(order, &spec, now)
                .map_err(|e| err(400, "invalid_request_error", None, &e.to_string(), None))?;
            Ok(((order, refund), changes))
        });
        match result {
            Ok((order, refund_no)) => {
                inner.count_write(1);
                let core = inner.core();
                core.order(order)
                    .and_then(|o| {
                        o.refunds
                            .iter()
                            .find(|r| r.id == refund_no)
                            .map(|r| (200, refund(o, r)))
                    })
                    .unwrap_or_else(|| {
                        err(500, "api_error", None, "An unknown error occurred", None)
                    })
            }
            Err(e) => e,
        }
    })
}

fn all_refunds(core: &Core) -> Vec<(Key, String, Value)> {
    core.orders
        .iter()
        .flat_map(|o| {
            o.refunds.iter().map(move |r| {
                (
                    (r.created_at.timestamp(), r.id),
                    refund_id(r.id),
                    refund(o, r),
                )
            })
        })
        .collect()
}

pub(super) async fn list_refunds(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let pairs = http::query_pairs(&req);
    let wanted = param(&pairs, "payment_intent");
    let items = {
        let core = inner.core();
        all_refunds(&core)
            .into_iter()
            .filter(|(_, _, v)| {
                wanted
                    .as_ref()
                    .is_none_or(|pi| v["payment_intent"] == pi.as_str())
            })
            .collect()
    };
    list(&req, "/v1/refunds", items)
}

pub(super) async fn get_refund(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    match all_refunds(&core).into_iter().find(|(_, i, _)| *i == *id) {
        Some((_, _, r)) => HttpResponse::Ok().json(r),
        None => invalid(
            Some("resource_missing"),
            &format!("No such refund: '{id}'"),
            Some("id"),
        ),
    }
}
