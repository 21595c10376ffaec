//! What the suite's HTTP clients (the package index, the model hub) share: reading a response
//! body from a service that is not trusted, within a size cap.

/// The body of `response`, or `None` when it is larger than `max_bytes` (announced or as it
/// arrives): never more than one chunk past the cap is held.
pub async fn read_capped_body(
    response: &mut reqwest::Response,
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let announced = response.content_length();
    if announced.is_some_and(|n| n > max_bytes as u64) {
        return Ok(None);
    }
    // Sized once from the announced length (already checked against the cap), so that a big
    // body is not copied through every doubling.
    let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
