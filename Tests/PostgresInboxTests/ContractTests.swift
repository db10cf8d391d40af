import Testing
import TrustPayWebhooksTesting
import Webhooks
import InboxTesting

extension PostgreSQLTests {
    /// The PostgreSQL inbox behaves as the memory inbox does, requirement by
    /// requirement, each on a fresh database.
    @Suite struct ContractTests {
        @Test(arguments: IdempotencyStoreContract.Requirement.allCases)
        func keepsTheStoreContract(_ requirement: IdempotencyStoreContract.Requirement) async throws {
            try await withInbox(poolSize: 8) { inbox in
                try await IdempotencyStoreContract().verify(requirement, on: inbox)
            }
        }
    }
}
