//! The demo's catalog: fictional adult DVD and Blu-ray titles from fictional studios, with
//! EAN-13 barcodes whose check digits are valid, ratings across BBFC, FSK, the Australian
//! classification and the MPA, some box sets sold as kits, and starting stock for two
//! stores and a warehouse.

use concord_simulators::ean13;

/// One edition Concord sells (one SKU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edition {
    /// The SKU code, e.g. `CRR-0007-DVD`.
    pub code: String,
    /// EAN-13 with a valid check digit.
    pub barcode: String,
    /// Title with edition, e.g. `After Hours (Blu-ray)`.
    pub title: String,
    /// `dvd`, `blu_ray` or `box_set`.
    pub format: &'static str,
    /// The studio.
    pub studio: &'static str,
    /// Sexually explicit.
    pub explicit: bool,
    /// Ratings by system (`bbfc`, `fsk`, `au`, `mpa`); some titles lack one on purpose.
    pub ratings: Vec<(&'static str, &'static str)>,
    /// Price in minor units (GBP).
    pub price_minor: i64,
    /// Starting units: warehouse, first store, second store.
    pub stock: [i64; 3],
    /// For a box set: the codes of the editions it holds (one of each).
    pub components: Vec<String>,
}

const STUDIOS: [(&str, &str); 5] = [
    ("CRR", "Crimson Reel"),
    ("VLP", "Velvet Lantern Pictures"),
    ("BOS", "Blue Orchid Studios"),
    ("HLF", "Harbour Light Films"),
    ("NSA", "Northshore Adult"),
];

const TITLES: [&str; 24] = [
    "After Hours",
    "Silk and Shadows",
    "The Night Concierge",
    "Private Collection",
    "Room 214",
    "Velvet Rope",
    "Summer in Saint-Tropez",
    "Secrets of the Lake House",
    "Midnight Masquerade",
    "The Understudy",
    "Heatwave",
    "Penthouse Nights",
    "Forbidden Garden",
    "Love at Harbour Point",
    "Candlelight Confessions",
    "The Art Model",
    "Desire Street",
    "Late Checkout",
    "Golden Hour",
    "Temptation Island Diaries",
    "Behind Closed Doors",
    "The Photographer",
    "Starlit Motel",
    "Red Silk Sheets",
];

/// The catalog: 24 titles on DVD, a third of them on Blu-ray too, and three box sets.
pub fn editions() -> Vec<Edition> {
    let mut out = Vec::new();
    for (i, title) in TITLES.iter().enumerate() {
        let (prefix, studio) = STUDIOS[i % STUDIOS.len()];
        let n = i as u64 + 1;
        let explicit = i % 4 != 3;
        let mut ratings = if explicit {
            vec![
                ("bbfc", "R18"),
                ("fsk", "18"),
                ("au", "X18+"),
                ("mpa", "NC-17"),
            ]
        } else {
            vec![("bbfc", "18"), ("fsk", "16"), ("au", "R18+"), ("mpa", "R")]
        };
        // A few titles were never rated in Australia: the catalog-gaps report finds them.
        if i % 7 == 5 {
            ratings.retain(|(system, _)| *system != "au");
        }
        let seed = (n * 37) % 11;
        out.push(Edition {
            code: format!("{prefix}-{n:04}-DVD"),
            barcode: ean13(501_234_500_000 + n * 10),
            title: format!("{title} (DVD)"),
            format: "dvd",
            studio,
            explicit,
            ratings: ratings.clone(),
            price_minor: 1499 + (n as i64 % 5) * 250,
            stock: [
                20 + seed as i64 * 4,
                6 + (seed % 5) as i64 * 2,
                5 + (seed % 4) as i64 * 2,
            ],
            components: Vec::new(),
        });
        if i % 3 == 0 {
            out.push(Edition {
                code: format!("{prefix}-{n:04}-BR"),
                barcode: ean13(501_234_500_000 + n * 10 + 1),
                title: format!("{title} (Blu-ray)"),
                format: "blu_ray",
                studio,
                explicit,
                ratings,
                price_minor: 2199 + (n as i64 % 4) * 300,
                stock: [
                    10 + seed as i64 * 2,
                    3 + (seed % 3) as i64,
                    2 + (seed % 3) as i64,
                ],
                components: Vec::new(),
            });
        }
    }
    let dvds: Vec<Edition> = out.iter().filter(|e| e.format == "dvd").cloned().collect();
    for (k, name) in [
        "Crimson Reel Classics",
        "Velvet Lantern Trilogy",
        "Harbour Light Collection",
    ]
    .iter()
    .enumerate()
    {
        let parts: Vec<&Edition> = dvds.iter().skip(k).step_by(5).take(3).collect();
        let n = 900 + k as u64;
        out.push(Edition {
            code: format!("BOX-{n:04}"),
            barcode: ean13(501_234_500_000 + n * 10),
            title: format!("{name} (3-disc box set)"),
            format: "box_set",
            studio: parts[0].studio,
            explicit: true,
            ratings: vec![
                ("bbfc", "R18"),
                ("fsk", "18"),
                ("au", "X18+"),
                ("mpa", "NC-17"),
            ],
            price_minor: 3999,
            stock: [0, 0, 0],
            components: parts.iter().map(|p| p.code.clone()).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use concord_domain::Barcode;

    use super::*;

    #[test]
    fn every_barcode_is_valid_and_every_code_unique() {
        let all = editions();
        let mut codes: Vec<&str> = all.iter().map(|e| e.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for e in &all {
            assert!(Barcode::parse(&e.barcode).is_ok(), "{}", e.barcode);
        }
    }

    #[test]
    fn the_catalog_has_box_sets_restricted_titles_and_gaps() {
        let all = editions();
        assert_eq!(all.iter().filter(|e| !e.components.is_empty()).count(), 3);
        assert!(all.iter().any(|e| e.ratings.contains(&("bbfc", "R18"))));
        assert!(all.iter().any(|e| !e.explicit));
        assert!(
            all.iter()
                .any(|e| !e.ratings.iter().any(|(s, _)| *s == "au"))
        );
    }
}
