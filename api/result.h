#pragma once

#include <QString>

#include <optional>
#include <utility>

namespace fleet {

// A value, or a sentence saying what went wrong and what to do. No exceptions cross Qt boundaries.
template <typename T> class Result
{
public:
    static Result success(T value)
    {
        Result r;
        r.m_value = std::move(value);
        return r;
    }
    static Result failure(QString error)
    {
        Result r;
        r.m_error = std::move(error);
        return r;
    }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T &value() const { return *m_value; }
    T &value() { return *m_value; }
    T take() { return std::move(*m_value); }
    const QString &error() const { return m_error; }

private:
    std::optional<T> m_value;
    QString m_error;
};

} // namespace fleet
