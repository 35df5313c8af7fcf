//! hotline-analytics: what leaders see. Rollups kept current from the event stream (and rebuilt
//! from the events), heat maps over a hexagonal grid and over the org units' areas, hot-issue
//! mining, early warnings (未诉先办), the official rates and unit rankings, sentiment (舆情), and
//! the exports.

pub mod areas;
pub mod export;
pub mod facts;
pub mod heatmap;
pub mod hot;
pub mod keeper;
pub mod rates;
pub mod render;
pub mod schema;
pub mod sentiment;
pub mod store;
pub mod warning;
