#include "fleettypes.h"

namespace fleet {

namespace {

template <typename Enum, std::size_t N> QStringView nameOf(const std::array<QStringView, N> &names, Enum value)
{
    const auto i = static_cast<std::size_t>(value);
    return i < N ? names[i] : QStringView(u"unknown");
}

template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<QStringView, N> &names, QStringView text)
{
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == text)
            return static_cast<Enum>(i);
    }
    return std::nullopt;
}

constexpr std::array<QStringView, kArchCount> kArchNames { u"amd64", u"aarch64", u"armv7hf" };
constexpr std::array<QStringView, kWorkerStateCount> kWorkerStateNames { u"provisioning", u"idle", u"busy", u"draining",
    u"offline", u"terminated" };
constexpr std::array<QStringView, 3> kDispatchNames { u"active", u"draining", u"drained" };
constexpr std::array<QStringView, kFailureReasonCount> kFailureNames { u"ETIMEDOUT", u"ECONNRESET", u"EHOSTUNREACH",
    u"build_error" };
constexpr std::array<QStringView, 4> kOperationTypeNames { u"provision", u"drain_worker", u"drain_region",
    u"resume_region" };
constexpr std::array<QStringView, 5> kOperationStateNames { u"pending", u"running", u"succeeded", u"failed",
    u"cancelled" };
constexpr std::array<QStringView, 3> kRoleNames { u"viewer", u"operator", u"admin" };

} // namespace

QStringView wireName(Arch value)
{
    return nameOf(kArchNames, value);
}
QStringView wireName(WorkerState value)
{
    return nameOf(kWorkerStateNames, value);
}
QStringView wireName(DispatchState value)
{
    return nameOf(kDispatchNames, value);
}
QStringView wireName(FailureReason value)
{
    return nameOf(kFailureNames, value);
}
QStringView wireName(OperationType value)
{
    return nameOf(kOperationTypeNames, value);
}
QStringView wireName(OperationState value)
{
    return nameOf(kOperationStateNames, value);
}
QStringView wireName(Role value)
{
    return nameOf(kRoleNames, value);
}

std::optional<Arch> archFromString(QStringView text)
{
    return lookup<Arch>(kArchNames, text);
}
std::optional<WorkerState> workerStateFromString(QStringView text)
{
    return lookup<WorkerState>(kWorkerStateNames, text);
}
std::optional<DispatchState> dispatchStateFromString(QStringView text)
{
    return lookup<DispatchState>(kDispatchNames, text);
}
std::optional<FailureReason> failureReasonFromString(QStringView text)
{
    return lookup<FailureReason>(kFailureNames, text);
}
std::optional<Role> roleFromString(QStringView text)
{
    return lookup<Role>(kRoleNames, text);
}

std::optional<OperationType> operationTypeFromString(QStringView text)
{
    return lookup<OperationType>(kOperationTypeNames, text);
}
std::optional<OperationState> operationStateFromString(QStringView text)
{
    return lookup<OperationState>(kOperationStateNames, text);
}

bool isTerminal(OperationState state)
{
    return state == OperationState::Succeeded || state == OperationState::Failed || state == OperationState::Cancelled;
}

} // namespace fleet
