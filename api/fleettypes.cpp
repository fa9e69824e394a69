#include "fleettypes.h"

#include "wirenames.h"

namespace fleet {

namespace {

// The UTF-16 spellings, made once from the one table in wirenames.h.
template <typename Enum> const auto &names()
{
    static const auto table = [] {
        std::array<QString, kWireNames<Enum>.size()> out;
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = QString::fromLatin1(kWireNames<Enum>[i].data(), qsizetype(kWireNames<Enum>[i].size()));
        return out;
    }();
    return table;
}

template <typename Enum> QStringView nameOf(Enum value)
{
    const auto &n = names<Enum>();
    const auto i = static_cast<std::size_t>(value);
    return i < n.size() ? QStringView(n[i]) : QStringView(u"unknown");
}

template <typename Enum> std::optional<Enum> lookup(QStringView text)
{
    const auto &n = names<Enum>();
    for (std::size_t i = 0; i < n.size(); ++i) {
        if (n[i] == text)
            return static_cast<Enum>(i);
    }
    return std::nullopt;
}

} // namespace

QStringView wireName(Arch value)
{
    return nameOf(value);
}
QStringView wireName(WorkerState value)
{
    return nameOf(value);
}
QStringView wireName(DispatchState value)
{
    return nameOf(value);
}
QStringView wireName(FailureReason value)
{
    return nameOf(value);
}
QStringView wireName(OperationType value)
{
    return nameOf(value);
}
QStringView wireName(OperationState value)
{
    return nameOf(value);
}
QStringView wireName(Role value)
{
    return nameOf(value);
}

std::optional<Arch> archFromString(QStringView text)
{
    return lookup<Arch>(text);
}
std::optional<WorkerState> workerStateFromString(QStringView text)
{
    return lookup<WorkerState>(text);
}
std::optional<DispatchState> dispatchStateFromString(QStringView text)
{
    return lookup<DispatchState>(text);
}
std::optional<FailureReason> failureReasonFromString(QStringView text)
{
    return lookup<FailureReason>(text);
}
std::optional<Role> roleFromString(QStringView text)
{
    return lookup<Role>(text);
}

std::optional<OperationType> operationTypeFromString(QStringView text)
{
    return lookup<OperationType>(text);
}
std::optional<OperationState> operationStateFromString(QStringView text)
{
    return lookup<OperationState>(text);
}

bool isTerminal(OperationState state)
{
    return state == OperationState::Succeeded || state == OperationState::Failed || state == OperationState::Cancelled;
}

} // namespace fleet
