#include "base/error.hpp"

#include <cstring>

namespace volt {

std::string Error::describe() const {
    if (code_ == 0)
        return message_;
    if (message_.empty())
        return std::strerror(code_);
    return message_ + ": " + std::strerror(code_);
}

}  // namespace volt
