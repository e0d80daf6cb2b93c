"""The service's error codes, raised by every layer above the engine and turned into wire errors by
:mod:`localpersonalize.protocol`.

Each class is named exactly as the error shape in the botocore models (``InvalidInputException``,
``ResourceNotFoundException``, ...), plus ``ValidationException``, which AWS returns for requests that
break the input shape's constraints (it is not declared in the Personalize models; botocore surfaces it
as a ``ClientError`` with that code).
"""


class ServiceError(Exception):
    """An error the service answers with: ``code`` is the ``__type`` on the wire, ``message`` the text.

    ``status`` is the HTTP status used when the model declares none for the error shape.
    """

    code = "ServiceError"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationException(ServiceError):
    code = "ValidationException"


class InvalidInputException(ServiceError):
    code = "InvalidInputException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsException(ServiceError):
    code = "ResourceAlreadyExistsException"


class ResourceInUseException(ServiceError):
    code = "ResourceInUseException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class InvalidNextTokenException(ServiceError):
    code = "InvalidNextTokenException"


class TooManyTagsException(ServiceError):
    code = "TooManyTagsException"


class TooManyTagKeysException(ServiceError):
    code = "TooManyTagKeysException"


class NotImplementedOperation(ServiceError):
    """An operation of the model that localpersonalize does not implement yet (HTTP 501, never a 500)."""

    code = "NotImplementedException"
    status = 501
