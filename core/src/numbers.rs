//! Hands out ticket numbers from blocks of the daily counter (see `store::counters`).

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::Mutex;

use crate::db::{Db, StoreError};
use crate::ids::TicketNumber;
use crate::store::counters;

#[derive(Debug, Default)]
struct Block {
    day: Option<NaiveDate>,
    next: i64,
    end: i64,
}

pub struct NumberAllocator {
    block: Mutex<Block>,
    block_size: i64,
}

/// The business day of a moment: ticket numbers follow the date in China.
pub fn business_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

impl NumberAllocator {
    pub fn new(block_size: i64) -> Self {
        Self {
            block: Mutex::new(Block::default()),
            block_size: block_size.clamp(1, 10_000),
        }
    }

    pub async fn next(&self, db: &Db, at: DateTime<Utc>) -> Result<TicketNumber, StoreError> {
        let day = business_day(at);
        let mut block = self.block.lock().await;
        if block.day != Some(day) || block.next > block.end {
            let size = self.block_size;
            let (start, end) = db
                .write(move |c| counters::reserve_block(c, day, size))
                .await?;
            *block = Block {
                day: Some(day),
                next: start,
                end,
            };
        }
        let n = block.next;
        block.next += 1;
        let counter =
            u32::try_from(n).map_err(|_| StoreError::invalid("number", "counter overflow"))?;
        TicketNumber::new(day, counter).map_err(|e| StoreError::invalid("number", e.0))
    }
}
