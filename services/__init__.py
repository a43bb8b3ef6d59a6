"""The processes and tools: gateway, processor, projector, operations, privacy, the CLI and
`commentstream up` with its embedded server."""
