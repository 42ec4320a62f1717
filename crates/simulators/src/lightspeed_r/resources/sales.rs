//! Sales as R-Series shows them: `Sale.json` (with its `timeStamp` filter), `Sale/{id}.json`
//! and their lines, numbers as strings and single children as objects.

use super::*;

pub(super) fn sale_line(
    o: &Order,
    line_id: u64,
    sale_id: u64,
    quantity: i64,
    at: Time,
    shop: &str,
) -> Option<Value> {
    let l = o.line(line_id)?;
    let c = o.currency.as_str();
    let total = decimal(quantity * l.unit_price_minor, c);
    let unit = decimal(l.unit_price_minor, c);
    Some(json!({
        "saleLineID": (sale_id * 1000 + line_id % 1000).to_string(),
        "createTime": time(at),
        "timeStamp": time(at),
        "unitQuantity": quantity.to_string(),
        "unitPrice": unit,
        "normalUnitPrice": unit,
        "discountAmount": "0",
        "discountPercent": "0",
        "avgCost": "0",
        "fifoCost": "0",
        "tax": "false",
        "tax1Rate": "0",
        "tax2Rate": "0",
        "isLayaway": "false",
        "isWorkorder": "false",
        "isSpecialOrder": "false",
        "displayableSubtotal": total,
        "displayableUnitPrice": unit,
        "calcLineDiscount": "0",
        "calcTransactionDiscount": "0",
        "calcTotal": total,
        "calcSubtotal": total,
        "calcTax1": "0",
        "calcTax2": "0",
        "taxClassID": "1",
        "customerID": "0",
        "discountID": "0",
        "employeeID": "1",
        "itemID": l.product.to_string(),
        "noteID": "0",
        "parentSaleLineID": "0",
        "shopID": shop,
        "saleID": sale_id.to_string(),
    }))
}

pub(super) fn sale_json(
    core: &Core,
    sale_id: u64,
    sale: SaleRef,
    relations: &Relations,
) -> Option<Value> {
    let (order, refund) = match sale {
        SaleRef::Sale { order } => (core.order(order)?, None),
        SaleRef::Return { order, refund } => {
            let o = core.order(order)?;
            (o, Some(o.refunds.iter().find(|r| r.id == refund)?))
        }
    };
    let c = order.currency.as_str();
    let shop = core
        .locations
        .get(order.location)
        .map_or(1, |l| l.id)
        .to_string();
    let (at, total_minor, lines): (Time, i64, Vec<(u64, i64)>) = match refund {
        None => (
            order.created_at,
            order.total_minor,
            order.lines.iter().map(|l| (l.id, l.quantity)).collect(),
        ),
        Some(r) => (
            r.created_at,
            -r.amount_minor,
            r.lines.iter().map(|rl| (rl.line, -rl.quantity)).collect(),
        ),
    };
    let total = decimal(total_minor, c);
    let mut value = json!({
        "saleID": sale_id.to_string(),
        "timeStamp": time(at),
        "discountPercent": "0",
        "completed": "true",
        "archived": "false",
        "voided": "false",
        "enablePromotions": "true",
        "isTaxInclusive": "false",
        "createTime": time(at),
        "updateTime": time(at),
        "completeTime": time(at),
        "referenceNumber": "",
        "referenceNumberSource": "",
        "tax1Rate": "0",
        "tax2Rate": "0",
        "change": "0",
        "receiptPreference": "printed",
        "displayableSubtotal": total,
        "ticketNumber": format!("2200{:08}", sale_id),
        "calcDiscount": "0",
        "calcTotal": total,
        "calcSubtotal": total,
        "calcTaxable": "0",
        "calcNonTaxable": total,
        "calcAvgCost": "0",
        "calcFIFOCost": "0",
        "calcTax1": "0",
        "calcTax2": "0",
        "calcPayments": total,
        "total": total,
        "totalDue": total,
        "displayableTotal": total,
        "balance": "0",
        "customerID": "0",
        "discountID": "0",
        "employeeID": "1",
        "quoteID": "0",
        "registerID": "1",
        "shipToID": "0",
        "shopID": shop,
        "taxCategoryID": "0",
        "tipEmployeeID": "0",
    });
    let map = value.as_object_mut()?;
    if relations.has("SaleLines") {
        let rendered: Vec<Value> = lines
            .iter()
            .filter_map(|(line, quantity)| sale_line(order, *line, sale_id, *quantity, at, &shop))
            .collect();
        map.insert(
            "SaleLines".into(),
            json!({"SaleLine": one_or_many(rendered)}),
        );
    }
    if relations.has("SalePayments") {
        map.insert(
            "SalePayments".into(),
            json!({"SalePayment": {
                "salePaymentID": sale_id.to_string(),
                "amount": total,
                "createTime": time(at),
                "archived": "false",
                "remoteReference": "",
                "paymentID": sale_id.to_string(),
                "saleID": sale_id.to_string(),
                "paymentTypeID": "1",
                "registerID": "1",
                "employeeID": "1",
            }}),
        );
    }
    Some(value)
}

pub(super) async fn sales(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let relations = match related(&ls, &req, &path) {
        Ok(relations) => relations,
        Err(e) => return *e,
    };
    let all = ls.sales();
    let records = {
        let core = inner.core();
        all.into_iter()
            .filter_map(|(id, sale)| Some((id, sale_json(&core, id, sale, &relations)?)))
            .collect()
    };
    listing(&ls, &req, "Sale", "saleID", records)
}

pub(super) async fn sale(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, id) = path.into_inner();
    let relations = match related(&ls, &req, &account) {
        Ok(relations) => relations,
        Err(e) => return *e,
    };
    let found = id
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| Some((n, ls.sale(n)?)));
    let core = inner.core();
    single(
        "Sale",
        &id,
        found.and_then(|(n, s)| sale_json(&core, n, s, &relations)),
    )
}
