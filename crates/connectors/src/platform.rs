//! The platforms Concord connects to, named by the slugs used in URLs, configuration and the
//! CLI.

use std::{fmt, str::FromStr};

/// A commerce platform (or, for `standard-webhooks`, a merchant's own system signing with
/// the scheme Concord uses for its outgoing webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// Shopify (online store and POS).
    Shopify,
    /// Square (POS and online).
    Square,
    /// WooCommerce (online store).
    WooCommerce,
    /// Lightspeed Retail X-Series, formerly Vend (POS).
    LightspeedX,
    /// Lightspeed Retail R-Series (POS).
    LightspeedR,
    /// Magento 2 / Adobe Commerce (online store).
    Magento,
    /// Clover (POS).
    Clover,
    /// BigCommerce (online store).
    BigCommerce,
    /// Revel Systems (POS).
    Revel,
    /// Stripe (payments).
    Stripe,
    /// QuickBooks Online (accounting).
    QuickBooks,
    /// Amazon Selling Partner API (marketplace).
    Amazon,
    /// Squarespace Commerce (online store).
    Squarespace,
    /// SAP Customer Checkout (POS).
    SapCco,
    /// OpenCart (online store).
    OpenCart,
    /// Zettle by PayPal (POS).
    Zettle,
    /// Toast (POS).
    Toast,
    /// Wix Stores (online store).
    Wix,
    /// PrestaShop (online store).
    PrestaShop,
    /// NetSuite POS (POS and ERP).
    NetSuite,
    /// Microsoft Dynamics 365 Commerce (POS and ERP).
    Dynamics365,
    /// A merchant's own system, signing with the Standard Webhooks scheme.
    StandardWebhooks,
}

impl Platform {
    /// Every platform, in the order the product lists them.
    pub const ALL: [Platform; 22] = [
        Platform::Shopify,
        Platform::Square,
        Platform::WooCommerce,
        Platform::LightspeedX,
        Platform::LightspeedR,
        Platform::Magento,
        Platform::Clover,
        Platform::BigCommerce,
        Platform::Revel,
        Platform::Stripe,
        Platform::QuickBooks,
        Platform::Amazon,
        Platform::Squarespace,
        Platform::SapCco,
        Platform::OpenCart,
        Platform::Zettle,
        Platform::Toast,
        Platform::Wix,
        Platform::PrestaShop,
        Platform::NetSuite,
        Platform::Dynamics365,
        Platform::StandardWebhooks,
    ];

    /// A point-of-sale system (its sales happen in a store), as opposed to an online
    /// channel, a payment processor or an accounting system.
    pub fn is_point_of_sale(self) -> bool {
        matches!(
            self,
            Self::Square
                | Self::LightspeedX
                | Self::LightspeedR
                | Self::Clover
                | Self::Revel
                | Self::SapCco
                | Self::Zettle
                | Self::Toast
        )
    }

    /// The slug (`shopify`, `lightspeed-r`, `standard-webhooks`, …).
    pub fn slug(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::Square => "square",
            Platform::WooCommerce => "woocommerce",
            Platform::LightspeedX => "lightspeed-x",
            Platform::LightspeedR => "lightspeed-r",
            Platform::Magento => "magento",
            Platform::Clover => "clover",
            Platform::BigCommerce => "bigcommerce",
            Platform::Revel => "revel",
            Platform::Stripe => "stripe",
            Platform::QuickBooks => "quickbooks",
            Platform::Amazon => "amazon",
            Platform::Squarespace => "squarespace",
            Platform::SapCco => "sap-cco",
            Platform::OpenCart => "opencart",
            Platform::Zettle => "zettle",
            Platform::Toast => "toast",
            Platform::Wix => "wix",
            Platform::PrestaShop => "prestashop",
            Platform::NetSuite => "netsuite",
            Platform::Dynamics365 => "dynamics365",
            Platform::StandardWebhooks => "standard-webhooks",
        }
    }

    /// Every slug, comma-separated, for messages listing the choices.
    pub fn known_slugs() -> String {
        Self::ALL.map(Platform::slug).join(", ")
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// A slug that names no platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform `{0}`; known: {known}", known = Platform::known_slugs())]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(slug: &str) -> Result<Self, Self::Err> {
        let wanted = slug.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.slug() == wanted)
            .ok_or(UnknownPlatform(wanted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_unknown_ones_list_the_choices() {
        for platform in Platform::ALL {
            assert_eq!(platform.slug().parse(), Ok(platform));
        }
        assert_eq!("Shopify".parse(), Ok(Platform::Shopify));
        let err = "shopfiy".parse::<Platform>().expect_err("unknown");
        assert!(err.to_string().contains("lightspeed-r, magento"), "{err}");
    }
}
