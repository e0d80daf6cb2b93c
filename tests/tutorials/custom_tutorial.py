# The guide's "Getting started (SDK for Python (Boto3))" for a custom dataset group (guide lines 3760-3993),
# step by step as printed. The only changes are the ones the tutorial asks its reader to make: the
# placeholders ('dataset_arn', 's3://bucket/file.csv', 'role_arn', ...) are filled in with the values of
# the earlier steps. BUCKET and ROLE_ARN are set by the test (the prerequisites: data uploaded, role made).
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
            "name": "TIMESTAMP",
            "type": "long"
        }
    ],
    "version": "1.0"
}

create_interactions_schema_response = personalize.create_schema(
    name='getting-started-schema',
    schema=json.dumps(schema)
)

interactions_schema_arn = create_interactions_schema_response['schemaArn']
print(json.dumps(create_interactions_schema_response, indent=2))

response = personalize.create_dataset_group(name = 'getting-started-dsg')
dataset_group_arn = response['datasetGroupArn']

description = personalize.describe_dataset_group(datasetGroupArn = dataset_group_arn)['datasetGroup']

print('Name: ' + description['name'])
print('ARN: ' + description['datasetGroupArn'])
print('Status: ' + description['status'])

response = personalize.create_dataset(
    name = 'getting-started-interactions',
    schemaArn = interactions_schema_arn,
    datasetGroupArn = dataset_group_arn,
    datasetType = 'Interactions'
)

dataset_arn = response['datasetArn']

import time
response = personalize.create_dataset_import_job(
    jobName = 'getting-started-import',
    datasetArn = dataset_arn,
    dataSource = {'dataLocation': f's3://{BUCKET}/ratings.csv'},
    roleArn = ROLE_ARN,
    importMode = 'FULL'
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

create_solution_response = personalize.create_solution(
    name='getting-started-solution',
    recipeArn= 'arn:aws:personalize:::recipe/aws-user-personalization-v2',
    datasetGroupArn = dataset_group_arn
)
solution_arn = create_solution_response['solutionArn']
print('solution_arn: ', solution_arn)

import time
import json

create_solution_version_response = personalize.create_solution_version(
    solutionArn = solution_arn
)

solution_version_arn = create_solution_version_response['solutionVersionArn']
print(json.dumps(create_solution_version_response, indent=2))

max_time = time.time() + 3*60*60 # 3 hours
while time.time() < max_time:
    describe_solution_version_response = personalize.describe_solution_version(
        solutionVersionArn = solution_version_arn
    )
    status = describe_solution_version_response["solutionVersion"]["status"]
    print("SolutionVersion: {}".format(status))

    if status == "ACTIVE" or status == "CREATE FAILED":
        break

    time.sleep(60)

response = personalize.create_campaign(
    name = 'getting-started-campaign',
    solutionVersionArn = solution_version_arn
)

arn = response['campaignArn']

description = personalize.describe_campaign(campaignArn = arn)['campaign']
print('Name: ' + description['name'])
print('ARN: ' + description['campaignArn'])
print('Status: ' + description['status'])

response = personalizeRt.get_recommendations(
    campaignArn = arn,
    userId = '123',
    numResults = 10
)

print("Recommended items")
for item in response['itemList']:
    print (item['itemId'])
