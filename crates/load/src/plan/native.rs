//! What an iteration does, in scalelab's own keys (`requests`, `flow`, `think`, `checks`) and the
//! plan `defaults`. Native plans use them at the top level and in scenarios; k6 files may too.

use std::time::Duration;

use super::model::{Body, Check, Defaults, Flow, HttpVersion, Request, Step, Think};
use super::node::{Ctx, Node, Obj, Result, Value};

/// The `requests`/`flow` and `think` of a scenario or of the whole plan, either possibly absent.
#[derive(Debug, Clone, Default)]
pub(super) struct IterationParts {
    pub flows: Option<Vec<Flow>>,
    pub think: Option<Think>,
}

impl IterationParts {
    /// These parts, with what they leave out taken from `fallback`.
    pub fn or(self, fallback: &IterationParts) -> IterationParts {
        IterationParts {
            flows: self.flows.or_else(|| fallback.flows.clone()),
            think: self.think.or(fallback.think),
        }
    }
}

/// Reads `requests` (a weighted pick, one request per iteration) or `flow` (ordered steps), and
/// `think`, from `obj`; `name` names the flow.
pub(super) fn iteration(obj: &mut Obj, ctx: &mut Ctx, name: &str) -> Result<IterationParts> {
    let what = obj.what.clone();
    let requests = obj.get(ctx, "requests");
    let flow = obj.get(ctx, "flow");
    let flows = match (requests, flow) {
        (Some(_), Some(flow)) => {
            return Err(ctx.error(
                flow.pos,
                format!("{what} gives both 'requests' and 'flow'; give one"),
            ));
        }
        (Some(requests), None) => Some(weighted_requests(requests, ctx, &what)?),
        (None, Some(flow)) => Some(vec![Flow {
            name: name.to_string(),
            weight: 1,
            steps: steps(flow, ctx, &what)?,
        }]),
        (None, None) => None,
    };
    let think = match obj.get(ctx, "think") {
        Some(node) => Some(think(node, ctx, &format!("'think' in {what}"))?),
        None => None,
    };
    Ok(IterationParts { flows, think })
}

fn weighted_requests(node: &Node, ctx: &mut Ctx, what: &str) -> Result<Vec<Flow>> {
    let items = node.seq(ctx, &format!("'requests' in {what}"))?;
    if items.is_empty() {
        return Err(ctx.error(node.pos, format!("'requests' in {what} is empty")));
    }
    let mut flows = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut obj = item.map(ctx, &format!("request {} of {what}", i + 1))?;
        let request = request(&mut obj, ctx)?;
        let weight = match obj.get(ctx, "weight") {
            Some(node) => weight(node, ctx, &format!("'weight' in {}", obj.what))?,
            None => 1,
        };
        obj.finish(ctx)?;
        flows.push(Flow {
            name: request.name.clone(),
            weight,
            steps: vec![Step::Request(request)],
        });
    }
    Ok(flows)
}

/// A flow weight (a whole number).
pub(super) fn weight(node: &Node, ctx: &Ctx, what: &str) -> Result<u32> {
    u32::try_from(node.u64(ctx, what)?)
        .map_err(|_| ctx.error(node.pos, format!("{what} is too large")))
}

fn steps(node: &Node, ctx: &mut Ctx, what: &str) -> Result<Vec<Step>> {
    let items = node.seq(ctx, &format!("'flow' in {what}"))?;
    if items.is_empty() {
        return Err(ctx.error(node.pos, format!("'flow' in {what} is empty")));
    }
    let mut steps = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut obj = item.map(ctx, &format!("step {} of the flow of {what}", i + 1))?;
        let step = match obj.get(ctx, "think") {
            Some(node) => Step::Think(think(node, ctx, &format!("'think' in {}", obj.what))?),
            None => Step::Request(request(&mut obj, ctx)?),
        };
        obj.finish(ctx)?;
        steps.push(step);
    }
    Ok(steps)
}

/// A pause: a duration, or `{min, max}` for a uniformly random one.
pub(super) fn think(node: &Node, ctx: &mut Ctx, what: &str) -> Result<Think> {
    if !matches!(node.value, Value::Map(_)) {
        return Ok(Think::Fixed(node.duration(ctx, what)?));
    }
    let mut obj = node.map(ctx, what)?;
    let min = obj
        .require(ctx, "min")?
        .duration(ctx, &format!("'min' of {what}"))?;
    let max_node = obj.require(ctx, "max")?;
    let max = max_node.duration(ctx, &format!("'max' of {what}"))?;
    obj.finish(ctx)?;
    if max < min {
        return Err(ctx.error(max_node.pos, format!("'max' of {what} is below 'min'")));
    }
    Ok(Think::Uniform { min, max })
}

/// One request from `obj` (name, method, path or url, query, headers, body or json, checks, tags).
/// The caller reads any further keys and calls [`Obj::finish`].
pub(super) fn request(obj: &mut Obj, ctx: &mut Ctx) -> Result<Request> {
    let what = obj.what.clone();
    let method = match obj.get(ctx, "method") {
        Some(node) => node
            .str(ctx, &format!("'method' in {what}"))?
            .to_ascii_uppercase(),
        None => "GET".to_string(),
    };
    let mut url = match (obj.get(ctx, "path"), obj.get(ctx, "url")) {
        (Some(_), Some(url)) => {
            return Err(ctx.error(
                url.pos,
                format!("{what} gives both 'path' and 'url'; give one"),
            ));
        }
        (Some(node), None) | (None, Some(node)) => {
            let url = node.str(ctx, &format!("the URL of {what}"))?;
            if let Some((scheme, _)) = url.split_once("://")
                && !matches!(scheme, "http" | "https")
            {
                return Err(ctx.error(
                    node.pos,
                    format!("the URL '{url}' of {what} must start with http:// or https://"),
                ));
            }
            url.to_string()
        }
        (None, None) => {
            return Err(ctx.error(
                obj.pos,
                format!("missing required option 'path' (or 'url') in {what}"),
            ));
        }
    };
    if let Some(node) = obj.get(ctx, "query") {
        append_query(&mut url, node, ctx, &what)?;
    }
    let headers = match obj.get(ctx, "headers") {
        Some(node) => pairs(node, ctx, &format!("'headers' in {what}"))?,
        None => Vec::new(),
    };
    let body = match (obj.get(ctx, "body"), obj.get(ctx, "json")) {
        (Some(_), Some(json)) => {
            return Err(ctx.error(
                json.pos,
                format!("{what} gives both 'body' and 'json'; give one"),
            ));
        }
        (Some(node), None) => Some(Body::Text(node.text(ctx, &format!("'body' in {what}"))?)),
        (None, Some(node)) => Some(Body::Json(
            node.to_json(ctx, &format!("'json' in {what}"))?.to_string(),
        )),
        (None, None) => None,
    };
    let checks = match obj.get(ctx, "checks") {
        Some(node) => checks(node, ctx, &format!("'checks' in {what}"))?,
        None => Vec::new(),
    };
    let tags = match obj.get(ctx, "tags") {
        Some(node) => pairs(node, ctx, &format!("'tags' in {what}"))?,
        None => Vec::new(),
    };
    let name = match obj.get(ctx, "name") {
        Some(node) => node.text(ctx, &format!("'name' in {what}"))?,
        None => tags
            .iter()
            .find(|(k, _)| k == "name")
            .map_or_else(|| format!("{method} {url}"), |(_, v)| v.clone()),
    };
    Ok(Request {
        name,
        method,
        url,
        headers,
        body,
        checks,
        tags,
    })
}

/// Appends `query` (text or a mapping) to `url`. A query that only describes a generated value
/// (`id=<a random integer>`, as in k6 `_requests` annotations) is left out, with a warning.
fn append_query(url: &mut String, node: &Node, ctx: &mut Ctx, what: &str) -> Result<()> {
    let query = match &node.value {
        Value::Map(_) => pairs(node, ctx, &format!("'query' in {what}"))?
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&"),
        _ => node.text(ctx, &format!("'query' in {what}"))?,
    };
    if query.contains('<') {
        ctx.warn(
            node.pos,
            format!(
                "the query {query:?} of {what} describes a value the script generates; \
                 scalelab sends the request without it"
            ),
        );
        return Ok(());
    }
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
    }
    Ok(())
}

/// A mapping of names to text values (headers, tags).
pub(super) fn pairs(node: &Node, ctx: &mut Ctx, what: &str) -> Result<Vec<(String, String)>> {
    let mut obj = node.map(ctx, what)?;
    obj.all()
        .into_iter()
        .map(|e| {
            Ok((
                e.key.clone(),
                e.value.text(ctx, &format!("'{}' in {what}", e.key))?,
            ))
        })
        .collect()
}

fn checks(node: &Node, ctx: &mut Ctx, what: &str) -> Result<Vec<Check>> {
    let mut obj = node.map(ctx, what)?;
    let mut checks = Vec::new();
    if let Some(node) = obj.get(ctx, "status") {
        checks.push(Check::Status(status_codes(
            node,
            ctx,
            &format!("'status' in {what}"),
        )?));
    }
    if let Some(node) = obj.get(ctx, "body_contains") {
        checks.push(Check::BodyContains(
            node.text(ctx, &format!("'body_contains' in {what}"))?,
        ));
    }
    if let Some(node) = obj.get(ctx, "header") {
        for (name, contains) in pairs(node, ctx, &format!("'header' in {what}"))? {
            checks.push(Check::Header { name, contains });
        }
    }
    if let Some(node) = obj.get(ctx, "duration_below") {
        checks.push(Check::DurationBelow(
            node.duration(ctx, &format!("'duration_below' in {what}"))?,
        ));
    }
    obj.finish(ctx)?;
    Ok(checks)
}

/// One status code or a list of them.
pub(super) fn status_codes(node: &Node, ctx: &Ctx, what: &str) -> Result<Vec<u16>> {
    let one = |node: &Node| {
        let code = node.u64(ctx, what)?;
        u16::try_from(code)
            .ok()
            .filter(|c| (100..600).contains(c))
            .ok_or_else(|| ctx.error(node.pos, format!("{what}: {code} is not an HTTP status")))
    };
    match &node.value {
        Value::Seq(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(node)?]),
    }
}

/// Reads `defaults` into `defaults`.
pub(super) fn defaults(node: &Node, ctx: &mut Ctx, defaults: &mut Defaults) -> Result<()> {
    let mut obj = node.map(ctx, "'defaults'")?;
    if let Some(node) = obj.get(ctx, "headers") {
        defaults.headers = pairs(node, ctx, "'headers' in 'defaults'")?;
    }
    if let Some(node) = obj.get(ctx, "timeout") {
        defaults.timeout = positive(node, ctx, "'timeout' in 'defaults'")?;
    }
    if let Some(node) = obj.get(ctx, "http") {
        defaults.http = match node.str(ctx, "'http' in 'defaults'")? {
            "auto" => HttpVersion::Auto,
            "http1" => HttpVersion::Http1,
            "http2" => HttpVersion::Http2,
            other => {
                return Err(ctx.error(
                    node.pos,
                    format!("'http' in 'defaults' is auto, http1 or http2, not {other:?}"),
                ));
            }
        };
    }
    if let Some(node) = obj.get(ctx, "insecure") {
        defaults.insecure = node.bool(ctx, "'insecure' in 'defaults'")?;
    }
    if let Some(node) = obj.get(ctx, "userAgent") {
        defaults.user_agent = Some(node.text(ctx, "'userAgent' in 'defaults'")?);
    }
    obj.finish(ctx)
}

/// A duration above zero.
pub(super) fn positive(node: &Node, ctx: &Ctx, what: &str) -> Result<Duration> {
    let duration = node.duration(ctx, what)?;
    if duration.is_zero() {
        return Err(ctx.error(node.pos, format!("{what} must be above 0")));
    }
    Ok(duration)
}
