# A container running the standalone server: docker build -t localpersonalize . && docker run -p 4566:4566 localpersonalize
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
EXPOSE 4566
# Inside a container the server must listen on all interfaces to be reachable through the published port.
CMD ["localpersonalize", "serve", "--host", "0.0.0.0", "--port", "4566"]
