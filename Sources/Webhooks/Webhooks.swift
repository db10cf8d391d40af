// The pipeline between the HTTP server and the merchant's code: route → checks
// → parse → verify → idempotency key → store → dispatch → answer.
//
// (The inbox protocols, events and the in-memory store are the `Inbox` module.)
// Merchants/  who may post callbacks, and with which secrets
// Handlers/   what merchant code receives and returns
// Dispatch/   running handlers: retries, dead letters, workers, deadlines
// Pipeline/   one request from bytes to answer
// Server/     the merchant-facing facade: configure, register, run
