#pragma once

#include <QString>

#include <optional>
#include <utility>

namespace fleet {

// The one result shape of every fallible call: a value, or an error that says what went wrong and what to do.
// The error is a sentence (QString) unless a caller needs more to decide (ApiResult carries an ApiError). No
// exceptions cross Qt boundaries.
template <typename T, typename E = QString> class Result
{
public:
    static Result success(T value)
    {
        Result r;
        r.m_value = std::move(value);
        return r;
    }
    static Result failure(E error)
    {
        Result r;
        r.m_error = std::move(error);
        return r;
    }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T &value() const { return *m_value; }
    T &value() { return *m_value; }
    const T *operator->() const { return &*m_value; }
    T *operator->() { return &*m_value; }
    const T &operator*() const { return *m_value; }
    T &operator*() { return *m_value; }
    T take() { return std::move(*m_value); }
    const E &error() const { return m_error; }

private:
    std::optional<T> m_value;
    E m_error {};
};

// A call that succeeds with nothing to return, or fails with an error.
template <typename E> class Result<void, E>
{
public:
    static Result success() { return Result(); }
    static Result failure(E error)
    {
        Result r;
        r.m_failed = true;
        r.m_error = std::move(error);
        return r;
    }

    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    const E &error() const { return m_error; }

private:
    bool m_failed = false;
    E m_error {};
};

using Status = Result<void>;

} // namespace fleet
