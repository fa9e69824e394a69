#pragma once

#include "fleettypes.h"

#include <array>
#include <string_view>

namespace fleet {

// The one table of wire spellings per enum, in enum order (ASCII, as the contract spells them). fleettypes.cpp
// builds wireName() and the *FromString() lookups from it; the decoders compare bytes against it directly.
template <typename Enum> inline constexpr auto kWireNames = std::array<std::string_view, 0> {};
template <>
inline constexpr auto kWireNames<Arch> = std::array<std::string_view, kArchCount> { "amd64", "aarch64", "armv7hf" };
template <>
inline constexpr auto kWireNames<WorkerState> = std::array<std::string_view, kWorkerStateCount> { "provisioning",
    "idle", "busy", "draining", "offline", "terminated" };
template <>
inline constexpr auto kWireNames<DispatchState> = std::array<std::string_view, 3> { "active", "draining", "drained" };
template <>
inline constexpr auto kWireNames<FailureReason> = std::array<std::string_view, kFailureReasonCount> { "ETIMEDOUT",
    "ECONNRESET", "EHOSTUNREACH", "build_error" };
template <>
inline constexpr auto kWireNames<OperationType> = std::array<std::string_view, 4> { "provision", "drain_worker",
    "drain_region", "resume_region" };
template <>
inline constexpr auto kWireNames<OperationState> = std::array<std::string_view, 5> { "pending", "running", "succeeded",
    "failed", "cancelled" };
template <> inline constexpr auto kWireNames<Role> = std::array<std::string_view, 3> { "viewer", "operator", "admin" };

} // namespace fleet
