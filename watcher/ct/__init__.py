"""Certificate transparency: certstream client, RFC 6962 / static-ct-api log readers, the matcher."""
