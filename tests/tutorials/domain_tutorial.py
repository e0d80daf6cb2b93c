# The guide's "Getting started with a domain dataset group (SDK for Python (Boto3))" (guide lines
# 2257-2470), step by step as printed. The only changes are the ones the tutorial asks its reader to make:
# placeholders ('dataset_arn', 's3://bucket/file.csv', 'role_arn', the example recommender ARN) are filled
# in with the values of the earlier steps. BUCKET and ROLE_ARN are set by the test.
import boto3

personalizeRt = boto3.client('personalize-runtime')
personalize = boto3.client('personalize')

response = personalize.list_recipes()

for recipe in response['recipes']:
    print (recipe)

import json
schema = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {
            "name": "USER_ID",
            "type": "string"
        },
        {
            "name": "ITEM_ID",
            "type": "string"
        },
        {
            "name": "EVENT_TYPE",
            "type": "string"
        },
        {
            "name": "TIMESTAMP",
            "type": "long"
        }
    ],
    "version": "1.0"
}

create_interactions_schema_response = personalize.create_schema(
    name='gs-domain-interactions-schema',
    schema=json.dumps(schema),
    domain='VIDEO_ON_DEMAND'
)

interactions_schema_arn = create_interactions_schema_response['schemaArn']
print(json.dumps(create_interactions_schema_response, indent=2))

response = personalize.create_dataset_group(
    name = 'gs-domain-dsg',
    domain = 'VIDEO_ON_DEMAND'
)
dsg_arn = response['datasetGroupArn']

description = personalize.describe_dataset_group(datasetGroupArn = dsg_arn)['datasetGroup']

print('Name: ' + description['name'])
print('ARN: ' + description['datasetGroupArn'])
print('Status: ' + description['status'])

response = personalize.create_dataset(
    name = 'interactions-dataset-name',
    schemaArn = interactions_schema_arn,
    datasetGroupArn = dsg_arn,
    datasetType = 'INTERACTIONS'
)

dataset_arn = response['datasetArn']

import time
response = personalize.create_dataset_import_job(
    jobName = 'gs-domain-import',
    datasetArn = dataset_arn,
    dataSource = {'dataLocation': f's3://{BUCKET}/ratings.csv'},
    roleArn = ROLE_ARN
)

dataset_interactions_import_job_arn = response['datasetImportJobArn']

description = personalize.describe_dataset_import_job(
    datasetImportJobArn = dataset_interactions_import_job_arn)['datasetImportJob']

print('Name: ' + description['jobName'])
print('ARN: ' + description['datasetImportJobArn'])
print('Status: ' + description['status'])

max_time = time.time() + 3*60*60 # 3 hours
while time.time() < max_time:
    describe_dataset_import_job_response = personalize.describe_dataset_import_job(
        datasetImportJobArn = dataset_interactions_import_job_arn
    )
    status = describe_dataset_import_job_response["datasetImportJob"]['status']
    print("Interactions DatasetImportJob: {}".format(status))

    if status == "ACTIVE" or status == "CREATE FAILED":
        break

    time.sleep(60)

import time
create_recommender_response = personalize.create_recommender(
    name = 'gs-python-top-picks',
    recipeArn = 'arn:aws:personalize:::recipe/aws-vod-top-picks',
    datasetGroupArn = dsg_arn
)
recommender_arn = create_recommender_response['recommenderArn']
print('Recommender ARN:' + recommender_arn)
max_time = time.time() + 3*60*60 # 3 hours
while time.time() < max_time:
    version_response = personalize.describe_recommender(
        recommenderArn = recommender_arn
    )
    status = version_response["recommender"]["status"]
    if status == "ACTIVE":
        print("Creation succeeded for {}".format(recommender_arn))
    elif status == "CREATE FAILED":
        print("Creation failed for {}".format(recommender_arn))
    if status == "ACTIVE":
        break
    else:
        print("Recommender creation is still in progress")
    time.sleep(60)

response = personalizeRt.get_recommendations(
    recommenderArn = recommender_arn,
    userId = '123'
)
print("Recommended items")
for item in response['itemList']:
    print (item['itemId'])
