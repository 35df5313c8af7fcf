//! The reference data tickets need. A database without an org tree gets the demo's, imported as
//! `hotline demo` imports it (org tree, categories, calendar, places, areas); one with an org tree
//! but no categories is refused, since its tree is someone's own and the demo's categories may
//! not fit it.

use anyhow::bail;
use hotline_core::store::{categories, units};
use hotline_core::workflow::Hotline;

use crate::demo::{AREAS_GEOJSON, CALENDAR_CSV, ORG_CSV, PLACES_CSV, TAXONOMY_CSV};
use crate::import::{self, Report};

fn check(what: &str, report: &Report) -> anyhow::Result<()> {
    anyhow::ensure!(report.is_ok(), "demo {what} data is invalid: {report}");
    Ok(())
}

/// Makes sure the org tree and the categories exist; returns a note when it imported the demo's.
pub fn prepare(h: &Hotline) -> anyhow::Result<Option<&'static str>> {
    let (units, cats) = {
        let mut c = h.db.get()?;
        (units::count(&mut c)?, categories::count(&mut c)?)
    };
    if units == 0 {
        check("org", &import::org::import(&h.db, ORG_CSV)?)?;
        check(
            "category",
            &import::categories::import(&h.db, TAXONOMY_CSV)?,
        )?;
        check("calendar", &import::calendar::import(&h.db, CALENDAR_CSV)?)?;
        check("places", &import::places::import(&h.db, PLACES_CSV)?)?;
        check("areas", &import::areas::import(&h.db, AREAS_GEOJSON)?)?;
        return Ok(Some(
            "the database had no org tree: imported the demo's org tree, categories, 2026 calendar, places and areas",
        ));
    }
    if cats == 0 {
        bail!(
            "the category tree is missing: import it first (hotline import categories demo/appeals/taxonomy.csv)"
        );
    }
    Ok(None)
}
