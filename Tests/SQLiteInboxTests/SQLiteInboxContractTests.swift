import Testing
import TrustPayWebhooksTesting
import SQLiteInbox
import InboxTesting

/// The SQLite inbox behaves as the memory inbox does, requirement by requirement.
@Suite struct SQLiteInboxContractTests {
    @Test(arguments: IdempotencyStoreContract.Requirement.allCases)
    func keepsTheStoreContract(_ requirement: IdempotencyStoreContract.Requirement) async throws {
        try await withInbox { inbox, _ in
            try await IdempotencyStoreContract().verify(requirement, on: inbox)
        }
    }
}
