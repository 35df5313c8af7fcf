//! The embedded engine: a tantivy index (under the data dir, or in memory) whose text fields
//! hold the terms of [`crate::analyze`], one field per kind of term and part of the article,
//! each weighted in the query.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analyze::{Analyzer, Terms};
use crate::engine::{
    SearchDoc, SearchEngine, SearchError, SearchFuture, SearchHit, SearchQuery, SearchResults,
};
use crate::snippet;

/// The most terms of one query that are scored (the most telling, by weight × IDF).
const MAX_TERMS: usize = 40;

/// Which terms go in which field, and the weight of a match there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    TitleWords,
    TagWords,
    BodyWords,
    TitleGrams,
    BodyGrams,
    TitleChars,
    TitleConcepts,
    BodyConcepts,
    TitleSyllables,
    BodySyllables,
    WordPinyin,
    Initials,
}

impl Part {
    const ALL: [Part; 12] = [
        Part::TitleWords,
        Part::TagWords,
        Part::BodyWords,
        Part::TitleGrams,
        Part::BodyGrams,
        Part::TitleChars,
        Part::TitleConcepts,
        Part::BodyConcepts,
        Part::TitleSyllables,
        Part::BodySyllables,
        Part::WordPinyin,
        Part::Initials,
    ];

    fn name(self) -> &'static str {
        match self {
            Part::TitleWords => "t_words",
            Part::TagWords => "g_words",
            Part::BodyWords => "b_words",
            Part::TitleGrams => "t_grams",
            Part::BodyGrams => "b_grams",
            Part::TitleChars => "t_chars",
            Part::TitleConcepts => "t_concepts",
            Part::BodyConcepts => "b_concepts",
            Part::TitleSyllables => "t_syllables",
            Part::BodySyllables => "b_syllables",
            Part::WordPinyin => "word_pinyin",
            Part::Initials => "initials",
        }
    }

    /// The weight of a match in this field. Matches on what the citizen typed (words,
    /// concepts) count most; pinyin and initials, which many words share, less; the body,
    /// long and general, least.
    fn weight(self) -> f32 {
        match self {
            Part::TitleWords => 3.0,
            Part::TagWords => 2.5,
            Part::BodyWords => 1.0,
            Part::TitleGrams => 1.5,
            Part::BodyGrams => 0.4,
            Part::TitleChars => 0.5,
            Part::TitleConcepts => 3.0,
            Part::BodyConcepts => 1.0,
            Part::TitleSyllables => 1.2,
            Part::BodySyllables => 0.25,
            Part::WordPinyin => 2.0,
            Part::Initials => 2.0,
        }
    }

    /// The query's terms for this field.
    fn query_terms(self, q: &Terms) -> &[String] {
        match self {
            Part::TitleWords | Part::TagWords | Part::BodyWords => &q.words,
            Part::TitleGrams | Part::BodyGrams => &q.grams,
            Part::TitleChars => &q.chars,
            Part::TitleConcepts | Part::BodyConcepts => &q.concepts,
            Part::TitleSyllables | Part::BodySyllables => &q.syllables,
            Part::WordPinyin => &q.word_pinyin,
            Part::Initials => &q.initials,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    body: Field,
    category: Field,
    facet: Field,
    areas: Field,
    valid_from: Field,
    valid_to: Field,
}

fn schema() -> (Schema, Fields, HashMap<Part, Field>) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", STORED),
        body: b.add_text_field("body", STORED),
        category: b.add_text_field("category", STRING | STORED),
        facet: b.add_facet_field("facet", FacetOptions::default()),
        areas: b.add_text_field("areas", STRING),
        valid_from: b.add_i64_field("valid_from", INDEXED | FAST),
        valid_to: b.add_i64_field("valid_to", INDEXED | FAST),
    };
    // Terms come analysed already: the whitespace tokenizer only splits them.
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("whitespace")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let parts = Part::ALL
        .iter()
        .map(|&p| (p, b.add_text_field(p.name(), analysed.clone())))
        .collect();
    (b.build(), fields, parts)
}

fn day(d: Option<NaiveDate>, open: i64) -> i64 {
    d.map_or(open, |d| i64::from(d.num_days_from_ce()))
}

fn index_err(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(e.to_string())
}

/// The facet of a category path: `/劳动和社会保障/社会保险`.
fn facet_of(category: &str) -> Facet {
    let parts: Vec<&str> = category.split('/').filter(|p| !p.is_empty()).collect();
    Facet::from_path(parts)
}

/// The tantivy engine.
pub struct EmbeddedEngine {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    parts: HashMap<Part, Field>,
    analyzer: Arc<Analyzer>,
}

impl std::fmt::Debug for EmbeddedEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedEngine").finish_non_exhaustive()
    }
}

impl EmbeddedEngine {
    /// Opens the index in `dir` (creating it when there is none), or one in memory.
    pub fn open(dir: Option<&Path>, analyzer: Arc<Analyzer>) -> Result<Self, SearchError> {
        let (schema, fields, parts) = schema();
        let index = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(index_err)?;
                let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(index_err)?;
                Index::open_or_create(mmap, schema).map_err(index_err)?
            }
            None => Index::create_in_ram(schema),
        };
        let writer = index.writer(50_000_000).map_err(|e| match e {
            // Not a broken index: another process holds it (two nodes on one data dir).
            tantivy::TantivyError::LockFailure(..) => SearchError::Unavailable(format!(
                "the search index is in use by another process (each node needs its own data dir): {e}"
            )),
            e => index_err(e),
        })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(index_err)?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields,
            parts,
            analyzer,
        })
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// How many articles the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, d: &SearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        doc.add_text(f.title, &d.title);
        doc.add_text(f.body, &d.body);
        doc.add_text(f.category, &d.category);
        doc.add_facet(f.facet, facet_of(&d.category));
        for a in &d.areas {
            doc.add_text(f.areas, a);
        }
        doc.add_i64(f.valid_from, day(d.valid_from, i64::MIN));
        doc.add_i64(f.valid_to, day(d.valid_to, i64::MAX));
        let a = &self.analyzer;
        let title = a.document(&d.title, true);
        let tags = a.document(&d.tags.join(" "), true);
        let body = a.document(&d.body, false);
        // Title and tags are one field for every kind of term but words.
        let both =
            |kind: fn(&Terms) -> &Vec<String>| [kind(&title).as_slice(), kind(&tags)].concat();
        let mut put = |p: Part, terms: &[String]| {
            if !terms.is_empty() {
                doc.add_text(self.parts[&p], terms.join(" "));
            }
        };
        put(Part::TitleWords, &title.words);
        put(Part::TagWords, &tags.words);
        put(Part::BodyWords, &body.words);
        put(Part::TitleGrams, &title.grams);
        put(Part::BodyGrams, &body.grams);
        put(Part::TitleChars, &both(|t| &t.chars));
        put(Part::TitleConcepts, &both(|t| &t.concepts));
        put(Part::BodyConcepts, &body.concepts);
        put(Part::TitleSyllables, &both(|t| &t.syllables));
        put(Part::BodySyllables, &body.syllables);
        put(Part::WordPinyin, &both(|t| &t.word_pinyin));
        put(Part::Initials, &both(|t| &t.initials));
        doc
    }

    fn write(
        &self,
        delete_all: bool,
        remove: &[String],
        docs: &[SearchDoc],
    ) -> Result<(), SearchError> {
        let mut w = self.writer.lock().map_err(index_err)?;
        if delete_all {
            w.delete_all_documents().map_err(index_err)?;
        }
        for id in remove.iter().chain(docs.iter().map(|d| &d.id)) {
            w.delete_term(Term::from_field_text(self.fields.id, id));
        }
        // Analysis (jieba, pinyin) is most of the work: on every core, each thread handing its
        // documents to the writer (which takes them from any thread).
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = docs.len().div_ceil(threads).max(1);
        let writer = &*w;
        std::thread::scope(|s| {
            let jobs: Vec<_> = docs
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || -> Result<(), SearchError> {
                        for d in part {
                            writer.add_document(self.document(d)).map_err(index_err)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            jobs.into_iter().try_for_each(|j| {
                j.join()
                    .map_err(|_| SearchError::Index("an indexing thread panicked".into()))?
            })
        })?;
        w.commit().map_err(index_err)?;
        drop(w);
        self.reader.reload().map_err(index_err)
    }

    /// Replaces everything with `docs`, on this thread (for the benchmark and the tools).
    pub fn replace_blocking(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.write(true, &[], &docs)
    }

    /// Searches now (the engine's work is in memory-mapped files: fast and blocking).
    pub fn search_now(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let terms = self.analyzer.query(&q.text);
        let searcher = self.reader.searcher();
        let docs = searcher.num_docs().max(1);
        // Every (field, term) of the query with its weight and how rare it is.
        let mut candidates: Vec<(f32, Term, f32)> = Vec::new();
        for p in Part::ALL {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for t in p.query_terms(&terms) {
                *counts.entry(t.as_str()).or_default() += 1;
            }
            for (t, n) in counts {
                let term = Term::from_field_text(self.parts[&p], t);
                let df = searcher.doc_freq(&term).map_err(index_err)?;
                if df == 0 {
                    continue;
                }
                // A term the query repeats counts a little more, not n times.
                let w = p.weight() * (1.0 + 0.3 * (n as f32 - 1.0).min(2.0));
                let idf = (1.0 + (docs - df) as f32 / (df as f32 + 0.5)).ln();
                // A term in more than a quarter of the articles tells them apart little and
                // costs a long posting list: left out (as Lucene's common-terms queries do).
                if df * 4 > docs && docs >= 20 {
                    continue;
                }
                candidates.push((w * idf, term, w));
            }
        }
        // A long spoken sentence has hundreds of terms; its most telling ones decide.
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        candidates.truncate(MAX_TERMS);
        let should: Vec<(Occur, Box<dyn Query>)> = candidates
            .into_iter()
            .map(|(_, term, w)| {
                let tq = TermQuery::new(term, IndexRecordOption::WithFreqs);
                let q: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(tq), w));
                (Occur::Should, q)
            })
            .collect();
        if should.is_empty() {
            return Ok(SearchResults::default());
        }
        let ranked = BooleanQuery::new(should);
        let filter = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(c) = q.category.as_deref().filter(|c| !c.is_empty()) {
            let t = Term::from_facet(self.fields.facet, &facet_of(c));
            filters.push(filter(Box::new(TermQuery::new(
                t,
                IndexRecordOption::Basic,
            ))));
        }
        if !q.areas.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = q
                .areas
                .iter()
                .map(|a| {
                    let t = Term::from_field_text(self.fields.areas, a);
                    let tq: Box<dyn Query> = Box::new(TermQuery::new(t, IndexRecordOption::Basic));
                    (Occur::Should, tq)
                })
                .collect();
            filters.push(filter(Box::new(BooleanQuery::new(any))));
        }
        if let Some(d) = q.valid_on {
            let d = day(Some(d), 0);
            filters.push(filter(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(self.fields.valid_from, d)),
            ))));
            filters.push(filter(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(self.fields.valid_to, d)),
                Bound::Unbounded,
            ))));
        }
        // Unfiltered, the ranked union is the whole query, so tantivy can skip the documents
        // that cannot reach the first `limit` (block-max WAND).
        let query: Box<dyn Query> = if filters.is_empty() {
            Box::new(ranked)
        } else {
            filters.push((Occur::Must, Box::new(ranked)));
            Box::new(BooleanQuery::new(filters))
        };
        let limit = q.limit.clamp(1, 100);
        let top_docs = TopDocs::with_limit(limit).order_by_score();
        let (top, total, facet_counts) = if q.facets {
            let mut facets = FacetCollector::for_field("facet");
            facets.add_facet("/");
            let (top, total, counts) = searcher
                .search(&query, &(top_docs, Count, facets))
                .map_err(index_err)?;
            (top, total, Some(counts))
        } else {
            let top = searcher.search(&query, &top_docs).map_err(index_err)?;
            let n = top.len();
            (top, n, None)
        };
        let marks = snippet::Marks::new(&self.analyzer, &terms);
        let f = &self.fields;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(index_err)?;
            let text = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let title = text(f.title);
            let body = text(f.body);
            hits.push(SearchHit {
                id: text(f.id),
                score,
                category: text(f.category),
                title_html: marks.whole(&title),
                snippet_html: marks.passage(&body, 90),
                title,
            });
        }
        let mut facets: Vec<(String, u64)> = facet_counts
            .iter()
            .flat_map(|c| c.get("/"))
            .map(|(facet, n)| (facet.to_path().join("/"), n))
            .collect();
        facets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(SearchResults {
            hits,
            total,
            facets,
        })
    }
}

impl SearchEngine for EmbeddedEngine {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn replace_all(&self, docs: Vec<SearchDoc>) -> SearchFuture<'_, ()> {
        Box::pin(std::future::ready(self.write(true, &[], &docs)))
    }

    fn upsert(&self, docs: Vec<SearchDoc>) -> SearchFuture<'_, ()> {
        Box::pin(std::future::ready(self.write(false, &[], &docs)))
    }

    fn remove(&self, ids: Vec<String>) -> SearchFuture<'_, ()> {
        Box::pin(std::future::ready(self.write(false, &ids, &[])))
    }

    fn search<'a>(&'a self, query: &'a SearchQuery) -> SearchFuture<'a, SearchResults> {
        Box::pin(std::future::ready(self.search_now(query)))
    }
}
