import ServiceConfiguration
import TrustPay

/// One spelling for number forms everywhere the binary shows or reads them:
/// `as-transmitted`, `shortest`, `two-decimals` (configuration values, the
/// `--form` flags, and output), never the Swift case names.
extension NumberForm {
    init(_ setting: NumberFormSetting) {
        switch setting {
        case .asTransmitted: self = .asTransmitted
        case .shortest: self = .shortest
        case .twoDecimals: self = .twoDecimals
        }
    }

    /// How configuration, flags and output spell this form.
    var spelling: String {
        switch self {
        case .asTransmitted: NumberFormSetting.asTransmitted.rawValue
        case .shortest: NumberFormSetting.shortest.rawValue
        case .twoDecimals: NumberFormSetting.twoDecimals.rawValue
        }
    }
}
