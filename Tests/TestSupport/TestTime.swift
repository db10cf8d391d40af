import Foundation
import Inbox
import InboxTesting
import TrustPayWebhooksTesting
import Webhooks

/// The time store tests record at, as `newEvent` receives events: this
/// process's start in whole seconds.
package let t0 = NewInboxEvent.testEpoch

/// `seconds` after ``t0``.
package func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }
