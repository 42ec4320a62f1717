//! One thin module per platform, each implementing [`Inbound`] with private wire types and
//! one mapping; the helpers they share live in `common` (values, timestamps, hints, HMAC
//! headers, unsigned platforms), the signature schemes in `crate::schemes` and amounts in
//! `crate::money`. Their tests share `test_support`.

mod amazon;
mod bigcommerce;
mod clover;
mod common;
mod dynamics365;
mod lightspeed_r;
mod lightspeed_x;
mod magento;
mod netsuite;
mod opencart;
mod prestashop;
mod quickbooks;
mod revel;
mod sap_cco;
mod shopify;
mod square;
mod squarespace;
mod standard;
mod stripe;
#[cfg(test)]
pub(crate) mod test_support;
mod toast;
mod wix;
pub(crate) mod woocommerce;
mod zettle;

use crate::{Delivery, Keys, Normalized, ParseError, Platform, Rejection};

/// What each platform module provides for webhook deliveries.
pub trait Inbound: Sync {
    /// Checks that a delivery is authentic at time `now` (seconds since 1970).
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, now: i64) -> Result<(), Rejection>;

    /// The platform's id for the delivered event, unique per connection, where it gives one.
    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String>;

    /// The delivery in Concord's vocabulary.
    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError>;

    /// The headers the platform sends with `body`, signed the way it signs them (simulators
    /// use this to deliver exactly as the platform would).
    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        url: Option<&str>,
        now: i64,
    ) -> Result<Vec<(String, String)>, Rejection>;
}

/// The module for `platform`.
pub fn inbound(platform: Platform) -> &'static dyn Inbound {
    match platform {
        Platform::Shopify => &shopify::Shopify,
        Platform::Square => &square::Square,
        Platform::WooCommerce => &woocommerce::WooCommerce,
        Platform::LightspeedX => &lightspeed_x::LightspeedX,
        Platform::LightspeedR => &lightspeed_r::LightspeedR,
        Platform::Magento => &magento::Magento,
        Platform::Clover => &clover::Clover,
        Platform::BigCommerce => &bigcommerce::BigCommerce,
        Platform::Revel => &revel::Revel,
        Platform::Stripe => &stripe::Stripe,
        Platform::QuickBooks => &quickbooks::QuickBooks,
        Platform::Amazon => &amazon::Amazon,
        Platform::Squarespace => &squarespace::Squarespace,
        Platform::SapCco => &sap_cco::SapCco,
        Platform::OpenCart => &opencart::OpenCart,
        Platform::Zettle => &zettle::Zettle,
        Platform::Toast => &toast::Toast,
        Platform::Wix => &wix::Wix,
        Platform::PrestaShop => &prestashop::PrestaShop,
        Platform::NetSuite => &netsuite::NetSuite,
        Platform::Dynamics365 => &dynamics365::Dynamics365,
        Platform::StandardWebhooks => &standard::Standard,
    }
}
