//! One answer, two formats. GeoReport v2 defines XML and derives JSON from it by the Spark
//! convention (an element holding a list becomes an array, a leaf becomes a value), so every
//! answer is built once as a [`Node`] tree and rendered to either: the two cannot drift apart.
//! XML is written with quick-xml, which escapes text; characters XML 1.0 forbids even escaped
//! (most C0 controls) are dropped so the document stays well-formed.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// The format a client asked for by the resource's extension (`services.xml`, `services.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    pub fn parse(ext: &str) -> Option<Self> {
        match ext {
            "xml" => Some(Self::Xml),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xml => "text/xml; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }
}

/// A value of an answer. Field and item names are the XML element names.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// JSON `null`; an empty element in XML (`<account_id/>`).
    Null,
    Bool(bool),
    Int(u64),
    Float(f64),
    Text(String),
    /// An element with child elements in this order; a JSON object.
    Map(Vec<(&'static str, Node)>),
    /// An element holding repeated `item` elements; a JSON array.
    List(&'static str, Vec<Node>),
}

impl Node {
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// Text, or null when absent.
    pub fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Self::Null, |s| Self::Text(s.into()))
    }

    pub fn opt_float(v: Option<f64>) -> Self {
        v.filter(|v| v.is_finite()).map_or(Self::Null, Self::Float)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_none(),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Int(i) => s.serialize_u64(*i),
            Self::Float(f) => s.serialize_f64(*f),
            Self::Text(t) => s.serialize_str(t),
            Self::Map(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Self::List(_, items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

/// Keeps only what XML 1.0 allows in character data (tab, line feed, carriage return and
/// everything from U+0020 except the surrogates and U+FFFE/U+FFFF, which a Rust string cannot
/// hold anyway or are dropped here).
fn xml_chars(s: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if s.chars().all(allowed) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.chars().filter(|c| allowed(*c)).collect())
    }
}

fn leaf(node: &Node) -> Option<String> {
    match node {
        Node::Bool(b) => Some(b.to_string()),
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(f.to_string()),
        Node::Text(t) => Some(xml_chars(t).into_owned()),
        _ => None,
    }
}

fn write_element(w: &mut Writer<Vec<u8>>, name: &str, node: &Node) -> std::io::Result<()> {
    let el = w.create_element(name);
    match node {
        Node::Null => el.write_empty().map(|_| ()),
        Node::Map(fields) => el
            .write_inner_content(|w| {
                fields
                    .iter()
                    .try_for_each(|(child, v)| write_element(w, child, v))
            })
            .map(|_| ()),
        Node::List(item, items) => el
            .write_inner_content(|w| items.iter().try_for_each(|v| write_element(w, item, v)))
            .map(|_| ()),
        other => {
            let text = leaf(other).unwrap_or_default();
            if text.is_empty() {
                el.write_empty().map(|_| ())
            } else {
                el.write_text_content(BytesText::new(&text)).map(|_| ())
            }
        }
    }
}

/// The XML document: declaration, then `root` holding `node`.
pub fn to_xml(root: &str, node: &Node) -> String {
    let mut w = Writer::new(Vec::new());
    let written = w
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .and_then(|()| write_element(&mut w, root, node));
    // Writing into a Vec cannot fail; an empty body would show if that ever changed.
    if written.is_err() {
        return String::new();
    }
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

pub fn to_json(node: &Node) -> String {
    serde_json::to_string(node).unwrap_or_default()
}

/// Renders `node` in `format`; `root` names the XML root element.
pub fn render(format: Format, root: &str, node: &Node) -> String {
    match format {
        Format::Xml => to_xml(root, node),
        Format::Json => to_json(node),
    }
}

/// The GeoReport error body: `[{"code", "description"}]` / `<errors><error>…`.
pub fn errors(code: u16, description: &str) -> Node {
    Node::List(
        "error",
        vec![Node::Map(vec![
            ("code", Node::Int(u64::from(code))),
            ("description", Node::text(description)),
        ])],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tree_renders_as_spark_json_and_escaped_xml() {
        let node = Node::List(
            "request",
            vec![Node::Map(vec![
                ("service_request_id", Node::Int(20261123000127)),
                ("description", Node::text("a < b & \"c\"\u{1}")),
                ("account_id", Node::Null),
                ("lat", Node::Float(28.2)),
            ])],
        );
        assert_eq!(
            to_json(&node),
            r#"[{"service_request_id":20261123000127,"description":"a < b & \"c\"\u0001","account_id":null,"lat":28.2}]"#
        );
        assert_eq!(
            to_xml("service_requests", &node),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request>\
             <service_request_id>20261123000127</service_request_id>\
             <description>a &lt; b &amp; &quot;c&quot;</description><account_id/>\
             <lat>28.2</lat></request></service_requests>"
        );
    }

    #[test]
    fn errors_have_the_spec_shape() {
        assert_eq!(
            to_json(&errors(403, "api_key: unknown")),
            r#"[{"code":403,"description":"api_key: unknown"}]"#
        );
        assert!(to_xml("errors", &errors(404, "x")).ends_with(
            "<errors><error><code>404</code><description>x</description></error></errors>"
        ));
    }
}
